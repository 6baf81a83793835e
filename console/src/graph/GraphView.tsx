import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position as HandleSide,
  ReactFlow,
  useReactFlow,
  useStore,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useEffect, useLayoutEffect, useMemo, useState, type KeyboardEvent } from "react";

import type { Issue } from "../api/types";
import { StateIcon } from "../components/StatusBadge";
import type { NodeStateView } from "../runs/nodeState";
import { hasOwnPositions, layoutGraph, NODE_HEIGHT, NODE_WIDTH, type Direction } from "./layout";
import { SOURCE_HANDLE, type DrawNode, type DrawableGraph } from "./model";

export interface GraphViewProps {
  graph: DrawableGraph;
  /** The run's state of each node (run page); absent for a workflow's plain graph. */
  states?: Record<string, NodeStateView>;
  /** Validation issues by node id, drawn on their node. */
  issues?: Record<string, Issue[]>;
  selectedNodeId?: string | null;
  onSelectNode?(nodeId: string): void;
  label: string;
}

interface CardData extends Record<string, unknown> {
  node: DrawNode;
  state?: NodeStateView;
  issues: Issue[];
  direction: Direction;
}

type CardNode = Node<CardData, "card">;

function NodeCard({ data, selected }: NodeProps<CardNode>) {
  const { node, state, issues, direction } = data;
  const [into, out] = direction === "TB" ? [HandleSide.Top, HandleSide.Bottom] : [HandleSide.Left, HandleSide.Right];
  const classes = ["node-card"];
  if (state) classes.push(`state-${state.state}`);
  if (issues.length) classes.push("has-issues");
  if (selected) classes.push("selected");
  return (
    <div className={classes.join(" ")} data-node-id={node.id} data-state={state?.state}>
      <Handle type="target" position={into} isConnectable={false} />
      <div className="node-card-type">{node.type}</div>
      <div className="node-card-title" title={node.title}>
        {node.title}
      </div>
      {node.title !== node.id && <div className="node-card-id mono">{node.id}</div>}
      {state && (
        <div className="node-card-status">
          <StateIcon state={state.state} />
          <span className="node-card-status-text">{state.label}</span>
        </div>
      )}
      {issues.length > 0 && (
        <ul className="node-card-issues" aria-label={`${issues.length} issue(s) on ${node.id}`}>
          {issues.map((issue, index) => (
            <li key={index}>
              <strong>{issue.code}</strong>: {issue.message}
            </li>
          ))}
        </ul>
      )}
      <Handle type="source" position={out} isConnectable={false} />
    </div>
  );
}

const NODE_TYPES = { card: NodeCard };
const QUIET_STATES = new Set(["skipped", "not-run"]);
const FIT_OPTIONS = { padding: 0.12, maxZoom: 1.1 };
/** Below this width the graph is laid out top to bottom. */
const NARROW_PX = 640;

/** Fits the graph to its box again whenever the box changes size (a panel opens, the window
 * turns narrow), or cards grow to list their issues (a refused import): none is left cut off. */
function FitOnResize() {
  const { fitView } = useReactFlow();
  const width = useStore((store) => store.width);
  const height = useStore((store) => store.height);
  // Only cards with issues count: a run's cards changing state must not move the view under the
  // person's pointer.
  const issueCardsHeight = useStore((store) => {
    let total = 0;
    for (const node of store.nodeLookup.values()) {
      if ((node.data as CardData).issues.length > 0) total += node.measured.height ?? 0;
    }
    return total;
  });
  useEffect(() => {
    if (!width || !height) return;
    const frame = requestAnimationFrame(() => void fitView(FIT_OPTIONS));
    return () => cancelAnimationFrame(frame);
  }, [width, height, issueCardsHeight, fitView]);
  return null;
}

function useWidth(element: HTMLElement | null): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    if (!element) return;
    setWidth(element.getBoundingClientRect().width);
    const observer = new ResizeObserver(([entry]) => setWidth(entry.contentRect.width));
    observer.observe(element);
    return () => observer.disconnect();
  }, [element]);
  return width;
}

export function GraphView({
  graph,
  states,
  issues = {},
  selectedNodeId = null,
  onSelectNode,
  label,
}: GraphViewProps) {
  const [box, setBox] = useState<HTMLDivElement | null>(null);
  const width = useWidth(box);
  const direction: Direction = width > 0 && width < NARROW_PX && !hasOwnPositions(graph) ? "TB" : "LR";
  const positions = useMemo(() => layoutGraph(graph, direction), [graph, direction]);
  // A different picture (other nodes, other direction): mount anew so the view fits it again.
  const shape = useMemo(
    () => `${direction}:${graph.nodes.map((node) => node.id).join("|")}`,
    [graph, direction],
  );

  const nodes = useMemo<CardNode[]>(
    () =>
      graph.nodes.map((node) => {
        const state = states?.[node.id];
        const nodeIssues = issues[node.id] ?? [];
        const words = [node.title, node.type, state?.label, nodeIssues.length ? `${nodeIssues.length} issue(s)` : null];
        return {
          id: node.id,
          type: "card",
          position: positions.get(node.id) ?? { x: 0, y: 0 },
          // A node is drawn only once it has a size: these stand in until the browser measures it,
          // so a card re-created by an update (a new state) never blinks out while it waits.
          initialWidth: NODE_WIDTH,
          initialHeight: NODE_HEIGHT,
          data: { node, state, issues: nodeIssues, direction },
          selected: node.id === selectedNodeId,
          ariaLabel: words.filter(Boolean).join(", "),
          draggable: false,
          connectable: false,
          deletable: false,
        };
      }),
    [graph, positions, states, issues, selectedNodeId, direction],
  );

  const edges = useMemo<Edge[]>(
    () =>
      graph.edges.map((edge) => {
        const quiet = QUIET_STATES.has(states?.[edge.target]?.state ?? "");
        return {
          id: edge.id,
          source: edge.source,
          target: edge.target,
          label: edge.handle === SOURCE_HANDLE ? undefined : edge.handle,
          className: quiet ? "edge-quiet" : undefined,
          markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
          focusable: false,
          selectable: false,
        };
      }),
    [graph, states],
  );

  // Enter or Space on a focused node opens it, as a click does. Handled while the event goes down
  // (capture), so it does not depend on what the graph library's own node handlers do with it.
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const element = (event.target as HTMLElement).closest(".react-flow__node");
    const id = element?.getAttribute("data-id");
    if (id && onSelectNode) {
      event.preventDefault();
      onSelectNode(id);
    }
  };

  if (graph.nodes.length === 0) {
    return <p className="muted graph-empty">No nodes to draw.</p>;
  }

  return (
    <div className="graph" role="region" aria-label={label} onKeyDownCapture={onKeyDown} ref={setBox}>
      <ReactFlow
        key={shape}
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodeClick={(_, node) => onSelectNode?.(node.id)}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable
        fitView
        fitViewOptions={FIT_OPTIONS}
        minZoom={0.1}
        maxZoom={2}
        deleteKeyCode={null}
      >
        <Background gap={20} size={1} />
        <Controls showInteractive={false} />
        <FitOnResize />
      </ReactFlow>
    </div>
  );
}
