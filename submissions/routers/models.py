"""Three routers over a feature matrix, each predicting one number per model of the pool.

With the default objective every router estimates, per sample, the probability that each model
answers correctly (kNN: the neighbours' mean correctness; linear and MLP: independent sigmoids
trained with binary cross-entropy); :mod:`.sweep` turns those into decisions at every λ. With the
sweep's ``objective="soft-labels"`` the routers instead fit VL-RouterBench's soft labels (see
:mod:`.labels`; linear and MLP with a softmax) and route by their argmax. All train on train,
early-stop on dev, run on the CPU and are deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    return mu, np.where(sd > 1e-6, sd, 1.0)


@dataclass
class KNNRouter:
    """Cosine k-nearest neighbours over standardised features; predicts the neighbours' mean label."""

    k: int = 20
    candidates: tuple[int, ...] = (10, 20, 40, 80, 160, 320)
    _x: np.ndarray | None = field(default=None, repr=False)

    def fit_index(self, x_train: np.ndarray) -> "KNNRouter":
        self._mu, self._sd = standardiser(x_train)
        self._x = self._unit(x_train)
        return self

    def _unit(self, x: np.ndarray) -> np.ndarray:
        z = (x - self._mu) / self._sd
        return (z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-9)).astype(np.float32)

    def neighbours(self, x: np.ndarray, k: int | None = None, block: int = 2048) -> np.ndarray:
        """Indices of the ``k`` (default: the largest candidate) most similar training rows, best first."""
        k = min(k or max(self.candidates), len(self._x))
        q = self._unit(x)
        out = np.empty((len(q), k), dtype=np.int64)
        for s in range(0, len(q), block):
            sims = q[s:s + block] @ self._x.T
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
            out[s:s + block] = np.take_along_axis(part, order, axis=1)
        return out

    @staticmethod
    def predict_from(neighbours: np.ndarray, labels: np.ndarray, k: int, block: int = 1024) -> np.ndarray:
        """Mean of the ``k`` nearest neighbours' label rows (in blocks: n × k × m would not fit)."""
        labels = np.asarray(labels, dtype=np.float32)
        out = np.empty((len(neighbours), labels.shape[1]), dtype=np.float32)
        for s in range(0, len(neighbours), block):
            out[s:s + block] = labels[neighbours[s:s + block, :k]].mean(axis=1)
        return out


OUTPUTS = ("correctness", "soft-labels")


@dataclass
class NeuralRouter:
    """Linear (``hidden=0``) or 2-layer MLP router over standardised features, early-stopped on the
    dev loss.

    ``output="correctness"``: one sigmoid per model, binary cross-entropy against each model's
    quality in [0, 1]; :meth:`predict` gives P(model answers correctly) (its expected quality). ``output="soft-labels"``: a softmax,
    cross-entropy against soft labels; :meth:`predict` gives the label distribution.
    """

    hidden: int = 0
    output: str = "correctness"
    lr: float = 3e-3
    weight_decay: float = 1e-4
    epochs: int = 80
    patience: int = 6
    batch_size: int = 256
    dropout: float = 0.1
    seed: int = 0

    @classmethod
    def starter(cls, router: str, output: str = "correctness", seed: int = 0) -> "NeuralRouter":
        """The starters' settings: the linear router takes larger batches (smoother steps, the same
        optimum), the MLP a small hidden layer (64; the signal is nearly linear in the features)."""
        if router == "linear":
            return cls(hidden=0, output=output, lr=3e-3, batch_size=1024, seed=seed)
        return cls(hidden=64, output=output, lr=1e-3, batch_size=256, seed=seed)

    def _loss(self, logits, y):
        import torch

        if self.output == "correctness":
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        return -(y * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()

    def _net(self, d: int, m: int):
        import torch

        if self.hidden <= 0:
            return torch.nn.Linear(d, m)
        return torch.nn.Sequential(torch.nn.Linear(d, self.hidden), torch.nn.ReLU(), torch.nn.Dropout(self.dropout),
                                   torch.nn.Linear(self.hidden, m))

    def fit(self, x_train: np.ndarray, y_train: np.ndarray, x_dev: np.ndarray, y_dev: np.ndarray) -> "SoftmaxRouter":
        import torch

        torch.manual_seed(self.seed)
        self._mu, self._sd = standardiser(x_train)
        xt = torch.from_numpy(((x_train - self._mu) / self._sd).astype(np.float32))
        yt = torch.from_numpy(y_train.astype(np.float32))
        xd = torch.from_numpy(((x_dev - self._mu) / self._sd).astype(np.float32))
        yd = torch.from_numpy(y_dev.astype(np.float32))
        self.net = self._net(xt.shape[1], yt.shape[1])
        opt = torch.optim.AdamW(self.net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        gen = torch.Generator().manual_seed(self.seed)

        if self.output not in OUTPUTS:
            raise ValueError(f"unknown output {self.output!r}; choose one of {OUTPUTS}")

        def loss_of(x, y):
            return self._loss(self.net(x), y)

        best, best_state, waited = float("inf"), None, 0
        for _ in range(self.epochs):
            self.net.train()
            perm = torch.randperm(len(xt), generator=gen)
            for s in range(0, len(xt), self.batch_size):
                idx = perm[s:s + self.batch_size]
                opt.zero_grad()
                loss_of(xt[idx], yt[idx]).backward()
                opt.step()
            self.net.eval()
            with torch.no_grad():
                dev_loss = float(loss_of(xd, yd))
            if dev_loss < best - 1e-5:
                best, waited = dev_loss, 0
                best_state = {k: v.clone() for k, v in self.net.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self.dev_loss = best
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        import torch

        self.net.eval()
        with torch.no_grad():
            z = torch.from_numpy(((x - self._mu) / self._sd).astype(np.float32))
            logits = self.net(z)
            return (torch.sigmoid(logits) if self.output == "correctness" else torch.softmax(logits, dim=1)).numpy()
