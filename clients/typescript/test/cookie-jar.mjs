// A browser's cookie jar, as much of it as the tests need: Node's fetch keeps no cookies.
export function fetchWithCookies() {
  const jar = new Map();
  return async (input, init) => {
    const request = new Request(input, init);
    if (jar.size > 0) {
      request.headers.set("cookie", [...jar].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const response = await fetch(request);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const [name, value] = pair.split("=");
      const expired = attributes.some((a) => a.trim().toLowerCase() === "max-age=0");
      if (expired || value === "") jar.delete(name.trim());
      else jar.set(name.trim(), value.trim());
    }
    return response;
  };
}
