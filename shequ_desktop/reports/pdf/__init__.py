"""PDF output (ReportLab): fonts, the ledger engine, ledgers, reports, certificates."""
