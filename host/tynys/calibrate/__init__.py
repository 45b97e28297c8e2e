"""Calibration against reference stations: co-location, EPA evaluation, published corrections,
fitted models with honest validation, versioned profiles, drift detection and a report.

| module | job |
|---|---|
| ``colocation`` | average to 1 h / 24 h with EPA's 75 % rule and pair with the reference |
| ``metrics`` | R², slope, intercept, RMSE, NRMSE, SD, CV, uptime; bootstrap CIs; EU expanded uncertainty |
| ``targets`` | pass/fail against EPA targets and EU objectives (``calibration/targets``) |
| ``corrections`` | published corrections by name (``calibration/corrections``) |
| ``models`` | OLS, Deming, multilinear RH/T, κ-Köhler, piecewise fits |
| ``validation`` | blocked leave-time-out and leave-site-out folds, model comparison |
| ``profiles`` | versioned per-node calibration profiles applied by time |
| ``alarms`` | drift alarms with stated false-alarm rates and delays (``calibration/drift``) |
| ``drift`` | rolling refit, sandwich, moment matching, the earlier CUSUM/KS alarms, EC zero tracking |
| ``watch`` | the drift workflow: baseline, alarms (either method) and rolling refit per sensor |
| ``synthetic`` | simulated co-locations with known drift, many sensors at once |
| ``evaluate`` / ``report`` | the evaluation table and the HTML report |
| ``data`` | the one loader of ``calibration/`` |
"""
