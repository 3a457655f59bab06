<?php
// The PHP parse worker of beam-swallow (beam_swallow.languages.parsing.workers).
// Usage: php php_parse.php
// Reads one JSON request a line on stdin, {"sources": [text, ...]}, and writes one JSON line
// for each on stdout: {"checker": "php 8.2.x", "verdicts": [[ok, line, column, message], ...]}.
// Each text is parsed by PHP's own parser (token_get_all with TOKEN_PARSE: the parse `php -l`
// does, without running or compiling anything); a ParseError is the verdict, with its line.
$checker = 'php ' . PHP_VERSION;
while (($line = fgets(STDIN)) !== false) {
    $request = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
    $verdicts = [];
    foreach ($request['sources'] as $source) {
        try {
            token_get_all($source, TOKEN_PARSE);
            $verdicts[] = [true, null, null, ''];
        } catch (ParseError $error) {
            $verdicts[] = [false, $error->getLine(), null, $error->getMessage()];
        }
    }
    echo json_encode(['checker' => $checker, 'verdicts' => $verdicts],
        JSON_THROW_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    flush();
}
