"""The advisor: column profiles, statistical tests, decision rules, the advice and its plan,
validation by a small LSTM, the HTML report and its figures. :func:`seqscale.advise` is
:func:`seqscale.advisor.api.advise`."""
