"""Three routers over a feature matrix, all predicting a distribution over the model pool.

Each is trained on soft labels (see :mod:`.labels`) of the train split and model-selected on dev;
the routing decision is the argmax of the predicted distribution (the predicted utility). All run on
the CPU and are deterministic for a seed.
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
    candidates: tuple[int, ...] = (5, 10, 20, 40, 80)
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
    def predict_from(neighbours: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
        return labels[neighbours[:, :k]].mean(axis=1)


@dataclass
class SoftmaxRouter:
    """Softmax regression (``hidden=0``) or a 2-layer MLP, trained with soft-label cross-entropy and
    early-stopped on the dev loss."""

    hidden: int = 0
    lr: float = 3e-3
    weight_decay: float = 1e-4
    epochs: int = 80
    patience: int = 6
    batch_size: int = 256
    dropout: float = 0.1
    seed: int = 0

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

        def loss_of(x, y):
            return -(y * torch.log_softmax(self.net(x), dim=1)).sum(dim=1).mean()

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
            return torch.softmax(self.net(z), dim=1).numpy()
