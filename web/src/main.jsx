import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/style.css";
import "./styles.css";
import { App } from "./App.jsx";
import { keyFromHash } from "./lib/auth.js";
import { setKey } from "./api.js";

// A key in the fragment (#key=...) is kept for this tab and removed from the address bar.
const found = keyFromHash(window.location.hash);
if (found) {
  setKey(found.key);
  const url = window.location.pathname + window.location.search + (found.rest ? `#${found.rest}` : "");
  window.history.replaceState(null, "", url);
}

createRoot(document.getElementById("root")).render(<App />);
