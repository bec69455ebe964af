// The pages of the app: one module each. To add a page, add an entry here (nav: a label to
// show it in the navigation bar). Not under /assets/: that path holds the bundle's files.
import { compile } from "../lib/routes.js";
import { DraftsPage } from "./Drafts.jsx";
import { DesignerPage } from "./Designer.jsx";
import { RunPage } from "./Run.jsx";
import { ExperimentPage, ExperimentsPage } from "./Experiments.jsx";
import { DatasetPage, DatasetsPage } from "./Datasets.jsx";
import { JobsPage } from "./Jobs.jsx";
import { ComparePage } from "./Compare.jsx";
import { EndpointPage, EndpointsPage } from "./Endpoints.jsx";
import { RealtimeListPage, RealtimePage } from "./Realtime.jsx";
import { AssetPage, AssetsPage } from "./Assets.jsx";
import { FileDropPage } from "./FileDrop.jsx";

export const ROUTES = [
  { pattern: "/", page: DraftsPage, nav: "Designer" },
  { pattern: "/drafts/:id", page: DesignerPage, section: "/" },
  { pattern: "/runs/:id", page: RunPage, section: "/experiments" },
  { pattern: "/experiments", page: ExperimentsPage, nav: "Experiments" },
  { pattern: "/experiments/:name", page: ExperimentPage, section: "/experiments" },
  { pattern: "/jobs", page: JobsPage, nav: "Jobs" },
  { pattern: "/compare", page: ComparePage, section: "/jobs" },
  { pattern: "/datasets", page: DatasetsPage, nav: "Datasets" },
  { pattern: "/datasets/:name", page: DatasetPage, section: "/datasets" },
  { pattern: "/datasets/:name/versions/:version", page: DatasetPage, section: "/datasets" },
  { pattern: "/endpoints", page: EndpointsPage, nav: "Pipeline endpoints" },
  { pattern: "/endpoints/:name", page: EndpointPage, section: "/endpoints" },
  { pattern: "/realtime", page: RealtimeListPage, nav: "Real-time endpoints" },
  { pattern: "/realtime/:name", page: RealtimePage, section: "/realtime" },
  { pattern: "/registry", page: AssetsPage, nav: "Assets" },
  { pattern: "/registry/:name", page: AssetPage, section: "/registry" },
  { pattern: "/registry/:name/versions/:version", page: AssetPage, section: "/registry" },
  { pattern: "/file-drop", page: FileDropPage, nav: "File drop" },
].map((r) => ({ ...r, match: compile(r.pattern) }));
