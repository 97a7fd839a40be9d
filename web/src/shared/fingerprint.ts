// An age public key's fingerprint as valise shows it everywhere (the drop
// page, `valise link create`): "SHA256:" and the unpadded base64 of the
// SHA-256 of the key's text (age_key_fingerprint in
// server/src/api/json_views.cpp).
export async function keyFingerprint(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return `SHA256:${btoa(binary).replace(/=+$/, "")}`;
}
