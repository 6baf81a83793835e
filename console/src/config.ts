/** Where the API is: `config.json` beside index.html (the static-site deploy writes it), else the
 * build's VITE_API_BASE_URL, else the console's own origin (the local cloud serves both). */
export interface ConsoleConfig {
  apiBaseUrl: string;
}

export async function loadConfig(fetchImpl: typeof fetch = fetch): Promise<ConsoleConfig> {
  const fallback = { apiBaseUrl: import.meta.env.VITE_API_BASE_URL ?? "" };
  try {
    const response = await fetchImpl(`${import.meta.env.BASE_URL}config.json`, { cache: "no-store" });
    if (!response.ok) return fallback;
    const body: unknown = await response.json();
    if (body && typeof body === "object" && typeof (body as ConsoleConfig).apiBaseUrl === "string") {
      return { apiBaseUrl: (body as ConsoleConfig).apiBaseUrl || fallback.apiBaseUrl };
    }
  } catch {
    // No config file (or not JSON): the defaults stand.
  }
  return fallback;
}
