"""What is counted and printed: dashboard figures, data-quality checks, ledger rows and every PDF."""
