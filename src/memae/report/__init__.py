"""Visual reports of a run: ``memae report RUN_DIR`` (one HTML page plus PNGs)."""

from memae.report.build import ReportOptions, build_report

__all__ = ["ReportOptions", "build_report"]
