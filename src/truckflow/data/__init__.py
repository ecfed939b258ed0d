"""Course-format data: the file format, its ingestion, and a synthetic world generator."""
