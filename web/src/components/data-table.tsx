import type { ReactNode } from "react";

/** What a data table needs to know about the list it shows (a `Paged` from usePaged fits). */
export interface TableList {
  readonly items: readonly unknown[];
  readonly loading: boolean;
  readonly error: string | undefined;
}

/** Props of DataTable. */
export interface DataTableProps {
  /** Names the table for screen readers (visually hidden), e.g. "Commands, newest first". */
  readonly caption: string;
  /** The column headers, in order; a header may be visually hidden content. */
  readonly columns: readonly ReactNode[];
  /** The list behind the rows: its error is shown above the table, loading marks it busy. */
  readonly list: TableList;
  /** The one row shown when the list loaded without error and has no items. */
  readonly empty: ReactNode;
  /** An extra class for the table, for page-specific column widths. */
  readonly className?: string;
  /** The body rows, one per item of `list`. */
  readonly children: ReactNode;
}

/**
 * The frame every list page draws its rows in, so fleet, history and audit look and announce
 * alike: the list's error as an alert, a horizontally scrollable table that is `aria-busy`
 * while a page loads, a caption, the column headers, and one "nothing here" row.
 */
export function DataTable({ caption, columns, list, empty, className, children }: DataTableProps) {
  return (
    <>
      {list.error ? (
        <p role="alert" className="alert alert-bad">
          {list.error}
        </p>
      ) : null}

      <div className="table-scroll">
        <table className={className ? `table ${className}` : "table"} aria-busy={list.loading}>
          <caption className="sr-only">{caption}</caption>
          <thead>
            <tr>
              {columns.map((column, i) => (
                <th key={i} scope="col">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {children}
            {!list.loading && !list.error && list.items.length === 0 ? (
              <tr>
                <td colSpan={columns.length} className="muted">
                  {empty}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </>
  );
}
