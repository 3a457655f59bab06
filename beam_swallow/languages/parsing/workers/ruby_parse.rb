# The Ruby parse worker of beam-swallow (beam_swallow.languages.parsing.workers).
# Usage: ruby ruby_parse.rb
# Reads one JSON request a line on stdin, {"sources": [text, ...]}, and writes one JSON line
# for each on stdout: {"checker": "ruby 3.1.x", "verdicts": [[ok, line, column, message], ...]}.
# Each text is compiled to instructions and not run (RubyVM::InstructionSequence.compile:
# what `ruby -c` does); a SyntaxError is the verdict, with the line of its first message.
require 'json'

$VERBOSE = nil # the parser's warnings are no verdict
$stdout.sync = true
checker = "ruby #{RUBY_VERSION}"
$stdin.each_line do |line|
  request = JSON.parse(line)
  verdicts = request['sources'].map do |source|
    RubyVM::InstructionSequence.compile(source)
    [true, nil, nil, '']
  rescue SyntaxError => e
    first = e.message.lines.first.to_s.strip
    found = first.match(/\A.*?:(\d+): (.*)\z/)
    found ? [false, found[1].to_i, nil, found[2]] : [false, nil, nil, first]
  end
  puts JSON.generate({ checker: checker, verdicts: verdicts })
end
