import type { AuditEvent } from "./events";

// What the shell shows: a view renders into its element, is told of the
// audit events that arrive (and re-fetches what they concern), and stops
// its timers when left.
export interface View {
  element: HTMLElement;
  title: string;
  onEvents?(events: AuditEvent[]): void;
  dispose?(): void;
}
