"""Calibration against reference stations: co-location, EPA evaluation, published corrections,
fitted models with honest validation, versioned profiles, drift detection and a report.

| module | job |
|---|---|
| ``inputs`` | ``FILE[:COLUMN]`` read into labelled series, each sensor paired with its own reference |
| ``colocation`` | average to 1 h / 24 h with EPA's 75 % rule and pair with the reference |
| ``metrics`` | R², slope, intercept, RMSE, NRMSE, SD, CV, uptime; bootstrap CIs; EU expanded uncertainty |
| ``targets`` | pass/fail against EPA targets and EU objectives (``calibration/targets``) |
| ``corrections`` | published corrections by name (``calibration/corrections``) |
| ``models`` | OLS, Deming, multilinear RH/T, κ-Köhler, piecewise fits |
| ``validation`` | blocked leave-time-out and leave-site-out folds, out-of-fold predictions |
| ``comparison`` | raw vs published corrections vs fitted models, ΔRMSE with a bootstrap CI, a recommendation |
| ``fitting`` | a profile fitted on pairs, with its equation and raw vs validated scores |
| ``profiles`` | versioned per-node calibration profiles applied by time |
| ``stored`` | the same over the store: fit, adopt, published corrections, apply |
| ``alarms`` | drift alarms with stated false-alarm rates and delays (``calibration/drift``) |
| ``drift`` | rolling refit, sandwich, moment matching, the earlier CUSUM/KS alarms, EC zero tracking |
| ``watch`` | the drift workflow: a calibrated baseline per sensor, alarms (either method) after it, rolling refit |
| ``synthetic`` | simulated co-locations with known drift, many sensors at once |
| ``evaluate`` / ``report`` | the evaluation table (from arrays or files) and the HTML report |
| ``data`` | the one loader of ``calibration/`` |
"""
