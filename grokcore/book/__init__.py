"""The book: chapters (discovery, parameters), execution (papermill, up-to-date stamps), the
HTML site and its checks, and what a page calls (`page.glue`, `page.publish_results`, plots).
Nothing is imported here, so a chapter that imports `grokcore.book.page` runs (and its stamp
hashes) only the page helpers, not the builder."""
