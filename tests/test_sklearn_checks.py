"""scikit-learn's estimator checks, for the ones that apply to an outlier detector."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from memae import MemAEDetector, MemAEEnsemble

# sklearn's outlier checks assume its own convention (predict in {-1, +1},
# decision_function negative for outliers). MemAEDetector follows PyOD's, which
# anomaly-detection users know: predict in {0, 1}, higher score = more anomalous.
PYOD_CONVENTION = ("PyOD convention: predict returns 0/1 and decision_function grows "
                   "with anomaly, sklearn expects -1/+1 and the opposite sign")
EXPECTED_FAILED = {
    "check_outliers_train": PYOD_CONVENTION,
    "check_outliers_fit_predict": PYOD_CONVENTION,
}


@parametrize_with_checks(
    [MemAEDetector(epochs=2, batch_size=16, random_state=0, device="cpu"),
     MemAEEnsemble(MemAEDetector(epochs=2, batch_size=16, device="cpu"), n_estimators=2,
                   max_samples=0.8, random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check) -> None:
    check(estimator)
