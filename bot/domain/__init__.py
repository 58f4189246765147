"""Pure rules, no I/O: budgets, health, schedules and occurrences, snapshots, working days.
May import: nothing but the shared vocabulary."""
