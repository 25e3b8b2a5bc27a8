// The same work in Java's built-in XML stack (JAXP), as an enterprise's system would do it: parse
// each official sample message namespace-aware into a DOM and take every leaf element's text
// into a map (the field values). Prints messages/s and MB/s after a warm-up (JIT).
//
//   javac -d /tmp/rc bench/compare/ReadCeb.java && java -cp /tmp/rc ReadCeb spec/samples/import
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamReader;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

public class ReadCeb {
  static int leaves(Element e, Map<String, String> out) {
    int n = 0;
    boolean leaf = true;
    for (Node c = e.getFirstChild(); c != null; c = c.getNextSibling()) {
      if (c.getNodeType() == Node.ELEMENT_NODE) {
        leaf = false;
        n += leaves((Element) c, out);
      }
    }
    if (leaf) {
      out.put(e.getLocalName(), e.getTextContent());
      n++;
    }
    return n;
  }

  static long dom(DocumentBuilder b, List<byte[]> msgs) throws Exception {
    long fields = 0;
    for (byte[] m : msgs) {
      Map<String, String> f = new HashMap<>();
      fields += leaves(b.parse(new ByteArrayInputStream(m)).getDocumentElement(), f);
    }
    return fields;
  }

  static long stax(XMLInputFactory xf, List<byte[]> msgs) throws Exception {
    long fields = 0;
    for (byte[] m : msgs) {
      Map<String, String> f = new HashMap<>();
      XMLStreamReader r = xf.createXMLStreamReader(new ByteArrayInputStream(m), "UTF-8");
      String name = null;
      StringBuilder text = new StringBuilder();
      while (r.hasNext()) {
        int ev = r.next();
        if (ev == XMLStreamConstants.START_ELEMENT) {
          name = r.getLocalName();
          text.setLength(0);
        } else if (ev == XMLStreamConstants.CHARACTERS) {
          text.append(r.getText());
        } else if (ev == XMLStreamConstants.END_ELEMENT) {
          if (name != null) {
            f.put(name, text.toString());
            fields++;
          }
          name = null;
        }
      }
      r.close();
    }
    return fields;
  }

  interface Pass {
    long run() throws Exception;
  }

  static void time(String label, Pass p, int messages, long bytes) throws Exception {
    for (long end = System.nanoTime() + 3_000_000_000L; System.nanoTime() < end; ) p.run();
    long rounds = 0, t0 = System.nanoTime(), t;
    do {
      p.run();
      rounds++;
      t = System.nanoTime();
    } while (t - t0 < 5_000_000_000L);
    double s = (t - t0) / 1e9;
    System.out.printf("%s %.0f messages/s %.1f MB/s%n", label, rounds * messages / s,
        rounds * bytes / s / 1e6);
  }

  public static void main(String[] args) throws Exception {
    List<byte[]> msgs = new ArrayList<>();
    long bytes = 0;
    try (var files = Files.list(Path.of(args[0])).sorted()) {
      for (Path p : (Iterable<Path>) files::iterator) {
        byte[] b = Files.readAllBytes(p);
        msgs.add(b);
        bytes += b.length;
      }
    }
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    DocumentBuilder b = f.newDocumentBuilder();
    XMLInputFactory xf = XMLInputFactory.newInstance();
    xf.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, true);
    time("java-dom", () -> dom(b, msgs), msgs.size(), bytes);
    time("java-stax", () -> stax(xf, msgs), msgs.size(), bytes);
  }
}
