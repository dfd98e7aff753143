// A reporter for node's test runner (--test-reporter) that writes flat TAP:
// one line per test case, named "file > suite > test", so that automake's
// TAP driver (and so `make check` and tests/ci.sh) count test cases, not
// files.  A suite or a test with subtests is not counted itself, unless it
// failed while none of its children did (a failing before() or after()
// hook); a file that fails to load is one failure.  Failures carry their
// error as TAP comments.
import { basename } from "node:path";

export default async function* tapReporter(source) {
  let n = 0;
  const path = [];		// names by nesting, from test:start
  const hadChild = [];		// by nesting: a child ended since its start
  const childFailed = [];
  yield "TAP version 13\n";
  for await (const ev of source) {
    const d = ev.data ?? {};
    if (ev.type === "test:start") {
      path[d.nesting] = d.name;
      path.length = d.nesting + 1;
      continue;
    }
    if (ev.type === "test:stdout" || ev.type === "test:stderr") {
      // What a test printed (a file that failed to load says why here).
      for (const l of String(d.message).replace(/\n$/, "").split("\n")) yield `# ${l}\n`;
      continue;
    }
    if (ev.type !== "test:pass" && ev.type !== "test:fail") continue;
    const depth = d.nesting;
    const parent = hadChild[depth + 1] === true;
    const anyChildFailed = childFailed[depth + 1] === true;
    hadChild[depth + 1] = false;
    childFailed[depth + 1] = false;
    hadChild[depth] = true;
    const failed = ev.type === "test:fail";
    if (failed) childFailed[depth] = true;
    if (parent && !(failed && !anyChildFailed)) continue;

    const names = path.slice(0, depth).concat(d.name);
    const file = d.file ? basename(d.file) : "";
    const title = [file, ...names].filter((x, i) => x && !(i === 1 && x === d.file))
      .join(" > ").replace(/#/g, "\\#");
    n++;
    let line = `${failed ? "not ok" : "ok"} ${n} - ${title}`;
    if (d.skip !== undefined) line += ` # SKIP ${d.skip === true ? "" : d.skip}`;
    else if (d.todo !== undefined) line += ` # TODO ${d.todo === true ? "" : d.todo}`;
    yield `${line}\n`;
    if (failed) {
      const err = d.details?.error;
      const cause = err?.cause ?? err;
      const text = String(cause?.stack ?? cause?.message ?? cause ?? "failed");
      for (const l of text.split("\n").slice(0, 30)) yield `#   ${l}\n`;
    }
  }
  yield `1..${n}\n`;
}
