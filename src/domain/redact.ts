/**
 * `mqtts://user:secret@host` → `mqtts://***@host`: a URL shown in a log line or an error must not carry its
 * password, even when its scheme is mistyped (the value that fails validation is the one that gets printed).
 */
export function redactUserInfo(url: string): string {
  return url.replace(/^(.*?\/\/|)[^@]*@/, '$1***@');
}
