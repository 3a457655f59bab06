// The JVM parse worker of beam-swallow (beam_swallow.languages.parsing.workers).
// Usage: java JavaParse.java (Java 11+ runs a single source file without a build step).
// Reads one JSON request a line on stdin, {"sources": [text, ...]}, and writes one JSON line
// for each on stdout: {"checker": "javac 17.0.x", "verdicts": [[ok, line, column, message], ...]}.
// Each text is parsed by javac's own parser (JavacTask.parse: no symbols are resolved, so a
// file needs none of its project); its first error, if any, is the verdict (1-based line and
// column). The JSON read here is only what the Python side writes: an object of arrays of
// strings.

import com.sun.source.util.JavacTask;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

public final class JavaParse {
  private static final JavaCompiler COMPILER = ToolProvider.getSystemJavaCompiler();
  private static final StandardJavaFileManager FILES =
      COMPILER.getStandardFileManager(null, Locale.ROOT, StandardCharsets.UTF_8);
  private static final List<String> OPTIONS = List.of("-proc:none");

  private static final class Source extends SimpleJavaFileObject {
    private final String text;

    Source(String text) {
      super(URI.create("string:///File.java"), JavaFileObject.Kind.SOURCE);
      this.text = text;
    }

    @Override
    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
      return text;
    }
  }

  private static String verdict(String text) {
    DiagnosticCollector<JavaFileObject> found = new DiagnosticCollector<>();
    JavacTask task =
        (JavacTask) COMPILER.getTask(null, FILES, found, OPTIONS, null, List.of(new Source(text)));
    try {
      task.parse();
    } catch (StackOverflowError e) {
      return "[false,null,null," + quote("too deeply nested for javac's parser") + "]";
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    for (Diagnostic<? extends JavaFileObject> d : found.getDiagnostics()) {
      if (d.getKind() == Diagnostic.Kind.ERROR) {
        return "[false," + d.getLineNumber() + "," + d.getColumnNumber() + ","
            + quote(d.getMessage(Locale.ROOT)) + "]";
      }
    }
    return "[true,null,null,\"\"]";
  }

  public static void main(String[] args) throws Exception {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    String checker = quote("javac " + System.getProperty("java.version"));
    String line;
    while ((line = in.readLine()) != null) {
      StringBuilder answer = new StringBuilder("{\"checker\":").append(checker);
      answer.append(",\"verdicts\":[");
      List<String> sources = new Reader(line).sources();
      for (int i = 0; i < sources.size(); i++) {
        answer.append(i == 0 ? "" : ",").append(verdict(sources.get(i)));
      }
      out.print(answer.append("]}\n"));
      out.flush();
    }
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\r': b.append("\\r"); break;
        case '\t': b.append("\\t"); break;
        default:
          if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
      }
    }
    return b.append('"').toString();
  }

  /** The strings of the request's "sources" array; other members are skipped. */
  private static final class Reader {
    private final String s;
    private int i;

    Reader(String s) {
      this.s = s;
    }

    List<String> sources() {
      List<String> out = new ArrayList<>();
      expect('{');
      while (peek() != '}') {
        String key = string();
        expect(':');
        if (key.equals("sources")) {
          expect('[');
          while (peek() != ']') {
            out.add(string());
            if (peek() == ',') i++;
          }
          i++;
        } else {
          skipValue();
        }
        if (peek() == ',') i++;
      }
      return out;
    }

    private char peek() {
      while (Character.isWhitespace(s.charAt(i))) i++;
      return s.charAt(i);
    }

    private void expect(char c) {
      if (peek() != c) throw new IllegalArgumentException("expected " + c + " at " + i);
      i++;
    }

    private void skipValue() {
      char c = peek();
      if (c == '"') {
        string();
        return;
      }
      int depth = 0;
      while (true) {
        c = s.charAt(i);
        if (c == '"') {
          string();
          continue;
        }
        if (c == '{' || c == '[') depth++;
        if (c == '}' || c == ']') {
          if (depth == 0) return;
          depth--;
        }
        if (c == ',' && depth == 0) return;
        i++;
      }
    }

    private String string() {
      expect('"');
      StringBuilder b = new StringBuilder();
      while (true) {
        char c = s.charAt(i++);
        if (c == '"') return b.toString();
        if (c != '\\') {
          b.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case 'n': b.append('\n'); break;
          case 't': b.append('\t'); break;
          case 'r': b.append('\r'); break;
          case 'b': b.append('\b'); break;
          case 'f': b.append('\f'); break;
          case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
          default: b.append(e);
        }
      }
    }
  }
}
