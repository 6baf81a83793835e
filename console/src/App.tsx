import type { ReactNode } from "react";

import type { ConsoleConfig } from "./config";
import { NotFoundPage } from "./pages/NotFoundPage";
import { RunPage } from "./pages/RunPage";
import { RunsPage } from "./pages/RunsPage";
import { SignInPage } from "./pages/SignInPage";
import { WorkflowPage } from "./pages/WorkflowPage";
import { WorkflowsPage } from "./pages/WorkflowsPage";
import { Link, matchPath, useLocation } from "./router";
import { SessionProvider, useSession } from "./session/SessionContext";

export function App({ config }: { config: ConsoleConfig }) {
  return (
    <SessionProvider>
      <Shell config={config} />
    </SessionProvider>
  );
}

function route(path: string): { page: ReactNode; section: "workflows" | "runs" | null } {
  if (path === "/" || matchPath("/workflows", path)) {
    return { page: <WorkflowsPage />, section: "workflows" };
  }
  let parameters = matchPath("/workflows/:workflowId", path);
  if (parameters) {
    return {
      page: <WorkflowPage key={parameters.workflowId} workflowId={parameters.workflowId} />,
      section: "workflows",
    };
  }
  if (matchPath("/runs", path)) return { page: <RunsPage />, section: "runs" };
  parameters = matchPath("/runs/:runId", path);
  if (parameters) {
    return { page: <RunPage key={parameters.runId} runId={parameters.runId} />, section: "runs" };
  }
  return { page: <NotFoundPage />, section: null };
}

function Shell({ config }: { config: ConsoleConfig }) {
  const session = useSession();
  const { path } = useLocation();
  if (!session.client) return <SignInPage defaultApiBaseUrl={config.apiBaseUrl} />;
  const { page, section } = route(path);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/workflows" className="brand">
          signoff <span className="muted">console</span>
        </Link>
        <nav aria-label="Main">
          <Link to="/workflows" aria-current={section === "workflows" ? "page" : undefined}>
            Workflows
          </Link>
          <Link to="/runs" aria-current={section === "runs" ? "page" : undefined}>
            Runs
          </Link>
        </nav>
        <div className="topbar-end">
          <span className="muted api-origin" title="The API this console talks to">
            {session.client.baseUrl || window.location.host}
          </span>
          <button type="button" onClick={() => session.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </>
  );
}
