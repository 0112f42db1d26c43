// Parses a Mermaid file (argv[2]) with Mermaid's own parser: prints the diagram type, or the
// parser's message and exits 1. Used by crates/oxalchemy/tests/schema_diagram.rs.
import { readFileSync } from "node:fs";
const text = readFileSync(process.argv[2], "utf8");
const { default: mermaid } = await import("mermaid");
try {
  const result = await mermaid.parse(text);
  console.log(`ok: ${result.diagramType}`);
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
}
