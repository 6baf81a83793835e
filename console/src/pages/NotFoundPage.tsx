import { Link } from "../router";
import { useTitle } from "./useTitle";

export function NotFoundPage() {
  useTitle("Not found");
  return (
    <section>
      <h1>Not found</h1>
      <p>
        The console has no page here. Go to the <Link to="/workflows">workflows</Link> or the{" "}
        <Link to="/runs">runs</Link>.
      </p>
    </section>
  );
}
