"""Developer tools, not part of the app: the benchmarks (`python -m playground.tools.bench`,
`bench_ui`), the README's pictures (`screenshots`) and the committed labs (`make_saves`)."""
