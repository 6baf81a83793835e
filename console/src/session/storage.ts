/** The signed-in key lives in sessionStorage only: it goes with the tab, and never into a URL. */
export interface Credentials {
  apiKey: string;
  apiBaseUrl: string;
}

const API_KEY = "signoff.console.apiKey";
const API_BASE_URL = "signoff.console.apiBaseUrl";

export function loadCredentials(storage: Storage = sessionStorage): Credentials | null {
  const apiKey = storage.getItem(API_KEY);
  if (!apiKey) return null;
  return { apiKey, apiBaseUrl: storage.getItem(API_BASE_URL) ?? "" };
}

export function saveCredentials(credentials: Credentials, storage: Storage = sessionStorage): void {
  storage.setItem(API_KEY, credentials.apiKey);
  storage.setItem(API_BASE_URL, credentials.apiBaseUrl);
}

export function clearCredentials(storage: Storage = sessionStorage): void {
  storage.removeItem(API_KEY);
  storage.removeItem(API_BASE_URL);
}
