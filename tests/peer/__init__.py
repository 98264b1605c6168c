"""scikit-learn's own preprocessing tests run against seqscale's scalers."""
