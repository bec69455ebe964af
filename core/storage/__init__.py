"""Where things are kept: the store over Blob and Table storage, and content-addressed artifacts."""
