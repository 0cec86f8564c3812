"""Test-set metrics, computed the same way for every framework (numpy only).

accuracy, and macro-averaged precision, recall and F1 as the study computed them with
scikit-learn's `precision_score(..., average="macro")` and friends: per class, then the plain mean
over the classes that occur in the true or the predicted labels; a class never predicted has
precision 0 and one never present has recall 0 (scikit-learn's zero_division default, without
its warning); F1 per class is 2PR/(P+R), 0 when P+R = 0.  The loss is the mean softmax
cross-entropy, computed in float64 from the logits (or from probabilities for models whose head
is a softmax).  This module does not run models.
"""

import numpy as np


def classification(y_true, y_pred):
    """Returns {"accuracy", "precision", "recall", "f1"} (floats) for integer label arrays."""
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true has %d labels, y_pred %d" % (len(y_true), len(y_pred)))
    if len(y_true) == 0:
        nan = float("nan")
        return {"accuracy": nan, "precision": nan, "recall": nan, "f1": nan}
    labels = np.union1d(y_true, y_pred)
    t = np.searchsorted(labels, y_true)
    p = np.searchsorted(labels, y_pred)
    k = len(labels)
    tp = np.bincount(t[t == p], minlength=k).astype(np.float64)
    n_true = np.bincount(t, minlength=k).astype(np.float64)
    n_pred = np.bincount(p, minlength=k).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(n_pred > 0, tp / n_pred, 0.0)
        rec = np.where(n_true > 0, tp / n_true, 0.0)
        f1 = np.where(prec + rec > 0, 2 * prec * rec / (prec + rec), 0.0)
    return {
        "accuracy": float(tp.sum() / len(y_true)),
        "precision": float(prec.mean()),
        "recall": float(rec.mean()),
        "f1": float(f1.mean()),
    }


def cross_entropy_logits(logits, y):
    """Mean softmax cross-entropy of integer labels y given logits (N, C), in float64."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y).astype(np.int64).ravel()
    if len(y) == 0:
        return float("nan")
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def cross_entropy_probs(probs, y, eps=1e-7):
    """Mean cross-entropy from probabilities (N, C), clipped to [eps, 1 - eps] as Keras does."""
    pr = np.clip(np.asarray(probs, dtype=np.float64), eps, 1.0 - eps)
    y = np.asarray(y).astype(np.int64).ravel()
    if len(y) == 0:
        return float("nan")
    return float(np.mean(-np.log(pr[np.arange(len(y)), y])))


def evaluate(outputs, y, outputs_are_probs=False):
    """All eval metrics from the model outputs over the whole test set."""
    outputs = np.asarray(outputs)
    res = classification(y, outputs.argmax(axis=1) if len(outputs) else [])
    res["loss"] = (cross_entropy_probs if outputs_are_probs else cross_entropy_logits)(outputs, y)
    return res
