// Reads the WARC files named on the command line with Webrecorder's
// warcio (an implementation independent of gowarc) and prints one JSON
// line per record: its type, IDs, target, HTTP status, payload, and
// whether its WARC-Payload-Digest is that of the payload warcio read.
import fs from "node:fs";
import crypto from "node:crypto";
import { WARCParser } from "warcio";

const b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(buf) {
  let bits = 0, value = 0, out = "";
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += b32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += b32[(value << (5 - bits)) & 31];
  return out;
}

function digestMatches(header, payload) {
  const i = header.indexOf(":");
  const alg = header.slice(0, i).toLowerCase().replace("-", "");
  const want = header.slice(i + 1);
  const sum = crypto.createHash(alg).update(payload).digest();
  return want.toLowerCase() === sum.toString("hex") || want.replace(/=+$/, "").toUpperCase() === base32(sum);
}

for (const file of process.argv.slice(2)) {
  const parser = new WARCParser(fs.createReadStream(file));
  for await (const record of parser) {
    const payload = Buffer.from(await record.readFully(false));
    const pd = record.warcPayloadDigest;
    console.log(JSON.stringify({
      file,
      version: record.warcHeaders.protocol,
      type: record.warcType,
      id: record.warcHeader("WARC-Record-ID"),
      concurrent: record.warcHeader("WARC-Concurrent-To"),
      target: record.warcTargetURI,
      status: record.httpHeaders ? Number(record.httpHeaders.statusCode) || 0 : 0,
      payload_digest: pd || "",
      digest_ok: pd ? digestMatches(pd, payload) : null,
      payload: payload.toString("base64"),
    }));
  }
}
