// A real socket.io-client against an installed gateway, for the packaging
// tests (issue 17): tokens signed with the secret the package made.
//
//   node client.mjs connect URL SECRET_FILE
//       one client connects and gets its greeting; exit 0, else 1.
//   node client.mjs loop URL SECRET_FILE STOP_FILE
//       clients connect one after another until STOP_FILE exists (at
//       most 2000, a hang guard); prints "N connected, M refused" and
//       exits 1 when one was refused: a reload must refuse no one.
import { readFileSync, existsSync } from "node:fs";
import { online, token } from "../integration/gwlib.mjs";

const [mode, url, secretFile, stopFile] = process.argv.slice(2);
const secret = readFileSync(secretFile, "utf8").replace(/\n+$/, "");
const opts = (user) => ({ auth: { token: token(user, {}, { secret }) } });
const guard = setTimeout(() => {
  console.error("client.mjs: hang guard (120 s) ran out");
  process.exit(1);
}, 120000);

async function once(user) {
  const d = await online(url, user, opts(user));
  d.close();
}

try {
  if (mode === "connect") {
    await once("pkg-user");
    console.log("connected");
  } else if (mode === "loop") {
    let ok = 0;
    let refused = 0;
    for (let i = 0; i < 2000 && !existsSync(stopFile); i++) {
      try {
        await once(`pkg-loop-${i}`);
        ok++;
      } catch (e) {
        refused++;
        console.error(`refused: ${e.message}`);
      }
    }
    console.log(`${ok} connected, ${refused} refused`);
    process.exitCode = refused === 0 && ok > 0 ? 0 : 1;
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} catch (e) {
  console.error(`client.mjs: ${e.message}`);
  process.exitCode = 1;
}
clearTimeout(guard);
process.exit();
