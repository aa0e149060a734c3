/**
 * Previous/next buttons of a token-paged list (`page_token` / `next_page_token`), with the
 * page number for orientation.
 */
export function Pager({
  page,
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
  label,
}: {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  label: string;
}) {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" className="btn" onClick={onPrevious} disabled={!hasPrevious}>
        ← Previous
      </button>
      <span aria-live="polite">Page {page + 1}</span>
      <button type="button" className="btn" onClick={onNext} disabled={!hasNext}>
        Next →
      </button>
    </nav>
  );
}
