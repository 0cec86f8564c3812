#!/usr/bin/env python3
"""PyTorch workload: torchvision's ResNet trained with torch.optim.SGD.

--impl matched and --impl stock use the same network, torchvision.models.resnetXX(weights=None,
num_classes=C) (the study built it and replaced `fc`, which is the same thing); matched loads the
shared initial weights, stock keeps torchvision's own random initialisation (seeded with
torch.manual_seed(--seed)).  Precision: PyTorch's own default allows TF32 in cuDNN convolutions
and not in matmuls (torch.backends.cudnn.allow_tf32 = True, cuda.matmul.allow_tf32 = False);
--precision fp32 turns both off, tf32 both on, bf16 is torch.autocast(bfloat16) around the
forward pass and loss with float32 weights.  The loop itself is workloads/common/driver.py.

Modes (--mode, recorded in info): eager (default); compiled: torch.compile(model,
mode="reduce-overhead"), Inductor with CUDA graphs where they apply (on a GPU; compiled lazily in
epoch 1); graph: the whole training step (the gather from the device-resident data set, forward,
loss, backward, SGD) captured once per batch size with torch.cuda.graph and replayed, which is
PyTorch's documented whole-network capture.  The graph's warm-up steps run during startup and their
effect on the weights, momentum and batch-norm statistics is undone before training, so every
mode starts from the same state; a last batch of another size runs eagerly on the same tensors.
"""

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[0:0] = [_ROOT, os.path.join(_ROOT, "python")]

from workloads.common import cli  # noqa: E402  (standard library only)

FRAMEWORK = "pytorch"


def _gpu_id(r):
    """The GPU a rank used, as CUDA_VISIBLE_DEVICES names it (its entry), else the ordinal."""
    if r["index"] is None:
        return "cpu"
    entries = [e.strip() for e in (r["cvd"] or "").split(",") if e.strip()]
    return entries[r["index"]] if r["index"] < len(entries) else str(r["index"])


class TorchBackend:
    name = FRAMEWORK
    outputs_are_probs = False

    def __init__(self, torch, torchvision):
        self.torch = torch
        self.torchvision = torchvision
        self.version = torch.__version__.split("+")[0]
        self.device_name = "cpu"
        self.dist = None
        self.rank, self.local_rank, self.world_size = 0, 0, 1

    def setup(self, args):
        torch = self.torch
        self.args = args
        if args.device == "cuda" and not torch.cuda.is_available():
            cli.fail(FRAMEWORK, "--device cuda: no CUDA device is visible to PyTorch")
        use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
        self.device = torch.device("cuda" if use_cuda else "cpu")
        if args.ddp:
            self._setup_ddp(use_cuda)
        self.device_name = torch.cuda.get_device_name(self.device) if use_cuda else "cpu"
        if args.compile and not hasattr(torch, "compile"):
            cli.fail(FRAMEWORK, "--compile needs PyTorch >= 2.0 (this is %s)" % self.version)
        self.graph = args.mode == "graph"
        if self.graph and not use_cuda:
            cli.fail(FRAMEWORK, "--mode graph needs a CUDA GPU (CUDA graphs)")
        if self.graph and not args.data_on_device:
            cli.fail(FRAMEWORK, "--mode graph needs --data-on-device (the captured step gathers "
                                "its batch from the device-resident data set)")
        self.graphs = {}
        tf32 = args.precision == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        torch.set_float32_matmul_precision("high" if tf32 else "highest")
        self.autocast = args.precision == "bf16"
        self.dtype = torch.float64 if args.precision == "fp64" else torch.float32
        self.scale = None if args.raw_pixels else 255.0
        self.memory_format = (torch.channels_last if args.channels_last
                              else torch.contiguous_format)
        torch.manual_seed(args.seed)

    def _setup_ddp(self, use_cuda):
        """One rank of a torch.distributed job: cuda:LOCAL_RANK and NCCL, or gloo on the CPU."""
        torch = self.torch
        import torch.distributed as dist
        from workloads.common import ddp_launch
        self.rank, self.local_rank, self.world_size = ddp_launch.rank_info()
        if use_cuda:
            if self.local_rank >= torch.cuda.device_count():
                cli.fail(FRAMEWORK, "--ddp: LOCAL_RANK %d but only %d CUDA devices are visible"
                         % (self.local_rank, torch.cuda.device_count()))
            self.device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(self.device)
        self.dist_backend = "nccl" if use_cuda else "gloo"
        dist.init_process_group(self.dist_backend, rank=self.rank, world_size=self.world_size)
        self.dist = dist

    def build(self, num_classes, weights, image_shape):
        torch = self.torch
        ctor = getattr(self.torchvision.models, self.args.model)
        model = ctor(weights=None, num_classes=num_classes)
        if weights is not None:
            state = {k: torch.from_numpy(v) for k, v in weights.items()}
            missing, unexpected = model.load_state_dict(state, strict=False)
            missing = [k for k in missing if not k.endswith("num_batches_tracked")]
            if missing or unexpected:  # resnet.load_weights checked the names already
                raise RuntimeError("state_dict mismatch: missing %s, unexpected %s"
                                   % (missing[:3], unexpected[:3]))
        self.model = model.to(self.device, dtype=self.dtype, memory_format=self.memory_format)
        self.init_state = self.state_arrays() if self.args.params_out else None
        self.compile_mode = "reduce-overhead" if self.args.compile else None
        train_model = self.model
        if self.dist is not None:
            # DDP broadcasts rank 0's parameters and buffers here (they are already equal:
            # every rank drew them from --seed) and all-reduces the gradients in backward().
            ids = [self.local_rank] if self.device.type == "cuda" else None
            train_model = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.step_model = (torch.compile(train_model, mode=self.compile_mode)
                           if self.args.compile else train_model)
        # Evaluation runs on the plain module: DDP's forward is a collective, and the ranks
        # evaluate different numbers of batches.
        self.eval_model = self.model if self.dist is not None else self.step_model
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.args.lr,
                                   momentum=self.args.momentum)
        self.loss_fn = torch.nn.CrossEntropyLoss()

    def put_data(self, train_x, train_y):
        self.dev_x = self.torch.from_numpy(train_x).to(self.device)
        self.dev_y = self.torch.from_numpy(train_y).to(self.device)

    def warm_up(self, train_sizes, eval_sizes):
        """Mode graph: captures the step for the full batch size (the largest); eager and
        compiled: nothing (torch.compile compiles lazily on the first step, in epoch 1)."""
        if self.graph:
            self._capture(max(train_sizes))

    def _capture(self, n):
        """torch.cuda.graph capture of one whole step on n images (PyTorch's 'whole network
        capture' recipe): warm-up steps on a side stream, then the capture; the state before the
        warm-up is restored afterwards (momentum buffers to zero, which is SGD's first step)."""
        torch = self.torch
        saved = [t.detach().clone() for t in list(self.model.parameters())
                 + list(self.model.buffers())]
        idx = torch.arange(n, dtype=torch.int64, device=self.device) % self.dev_x.shape[0]
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                self._step_body(idx)
        torch.cuda.current_stream().wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        self.opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            loss = self._step_body(idx)
        with torch.no_grad():
            for t, v in zip(list(self.model.parameters()) + list(self.model.buffers()), saved):
                t.copy_(v)
            for group in self.opt.param_groups:
                for p in group["params"]:
                    buf = self.opt.state.get(p, {}).get("momentum_buffer")
                    if buf is not None:
                        buf.zero_()
        torch.cuda.synchronize(self.device)
        self.graphs[n] = (graph, idx, loss)

    def _step_body(self, idx):
        """The captured step: batch idx of the device-resident data, forward, loss, backward,
        SGD.  The gradients are those the capture allocated (set_to_none before it), so each
        replay writes them anew."""
        self.model.train()
        x = self._input(self.dev_x[idx])
        with self._autocast():
            loss = self.loss_fn(self.model(x), self.dev_y[idx])
        loss.backward()
        self.opt.step()
        return loss.detach()

    def _input(self, x_u8):
        x = x_u8.permute(0, 3, 1, 2).to(self.dtype)
        if self.scale is not None:
            x = x / self.scale
        return x.contiguous(memory_format=self.memory_format)

    def _autocast(self):
        # The autocast weight-cast cache must be off inside a CUDA graph capture.
        return self.torch.autocast(device_type=self.device.type, dtype=self.torch.bfloat16,
                                   enabled=self.autocast, cache_enabled=not self.graph)

    def _mark_step(self):
        if self.args.compile and self.device.type == "cuda":
            self.torch.compiler.cudagraph_mark_step_begin()

    def _step(self, x_u8, y):
        self._mark_step()
        self.model.train()
        x = self._input(x_u8)
        self.opt.zero_grad(set_to_none=True)
        with self._autocast():
            loss = self.loss_fn(self.step_model(x), y)
        loss.backward()
        self.opt.step()
        return loss.detach()

    def train_host(self, x_u8, y):
        torch = self.torch
        nb = self.device.type == "cuda"
        return self._step(torch.from_numpy(x_u8).to(self.device, non_blocking=nb),
                          torch.from_numpy(y).to(self.device, non_blocking=nb))

    def train_device(self, idx):
        i = self.torch.from_numpy(idx).to(self.device)
        entry = self.graphs.get(len(idx))
        if entry is not None:
            graph, static_idx, loss = entry
            static_idx.copy_(i)
            graph.replay()
            return loss.clone()
        if self.graph:
            # Another batch size (the last batch): eagerly, into the graph's own gradient
            # tensors (zeroed, not replaced, so that the graph keeps writing where SGD reads).
            self.model.train()
            self.opt.zero_grad(set_to_none=False)
            with self._autocast():
                loss = self.loss_fn(self.model(self._input(self.dev_x[i])), self.dev_y[i])
            loss.backward()
            self.opt.step()
            return loss.detach()
        return self._step(self.dev_x[i], self.dev_y[i])

    def predict(self, x_u8):
        torch = self.torch
        self._mark_step()
        self.model.eval()
        with torch.no_grad(), self._autocast():
            out = self.eval_model(self._input(torch.from_numpy(x_u8).to(self.device)))
        # A compiled (CUDA-graph) output is overwritten by the next replay: keep a copy.
        return out.to(self.dtype).clone() if self.args.compile else out.to(self.dtype)

    def to_numpy(self, out):
        return out.cpu().numpy()

    def losses_mean(self, losses):
        return float(self.torch.stack([l.double() for l in losses]).mean().item())

    def sync(self):
        """The device's queued work done; under --ddp also every rank's (a barrier), so that a
        phase mark bounds the work of all GPUs.  Called on every rank."""
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)
        if self.dist is not None:
            if self.device.type == "cuda":
                self.dist.barrier(device_ids=[self.local_rank])
            else:
                self.dist.barrier()

    def allgather(self, obj):
        """[obj of rank 0, obj of rank 1, ...] on every rank (a collective)."""
        if self.dist is None:
            return [obj]
        out = [None] * self.world_size
        self.dist.all_gather_object(out, obj)
        return out

    def sync_buffers(self):
        """Batch-norm running statistics from rank 0 to every rank (each rank updated its own
        in its last step); parameters are equal already (all-reduced gradients)."""
        if self.dist is None:
            return
        with self.torch.no_grad():
            for b in self.model.buffers():
                self.dist.broadcast(b, 0)

    def state_arrays(self):
        return {k: v.detach().cpu().clone().numpy() for k, v in self.model.state_dict().items()}

    def ddp_info(self):
        """Rank 0's view of the job: world size and each rank's GPU (a collective)."""
        mine = {"rank": self.rank, "local_rank": self.local_rank,
                "device": self.device_name, "index": self.device.index,
                "cvd": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "host": os.uname().nodename}
        ranks = self.allgather(mine)
        cvd = ranks[0]["cvd"]
        return {"world_size": self.world_size, "ddp_backend": self.dist_backend,
                "global_batch_size": self.args.batch_size * self.world_size,
                "nccl_nvls_enable": os.environ.get("NCCL_NVLS_ENABLE"),
                "cuda_visible_devices": cvd,
                "gpus": ";".join(r["device"] for r in ranks),
                "gpu_ids": ",".join(_gpu_id(r) for r in ranks),
                "nodes": len({r["host"] for r in ranks})}

    def close(self):
        if self.dist is not None:
            self.dist.destroy_process_group()
            self.dist = None

    def extra_info(self):
        torch = self.torch
        return {"torchvision_version": self.torchvision.__version__.split("+")[0],
                "cudnn_version": torch.backends.cudnn.version() if self.device.type == "cuda"
                else None,
                "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
                "cudnn_tf32": torch.backends.cudnn.allow_tf32,
                "compile_mode": self.compile_mode,
                "graph_scope": "train step (gather, forward, loss, backward, SGD); last batch of "
                               "another size eager" if self.graph else None}


def _default_nproc(args):
    """--nproc-per-node's default: 1 on the CPU, else the GPUs PyTorch sees."""
    if args.device == "cpu":
        return 1
    import torch
    n = torch.cuda.device_count()
    if n < 1:
        cli.fail(FRAMEWORK, "--ddp: no CUDA device is visible; give --device cpu (gloo) or "
                            "--nproc-per-node N")
    return n


def _ddp_entry(args, argv):
    """--ddp: in the launcher (no RANK/WORLD_SIZE yet) start the ranks and return their status;
    in a rank, keep JOULEBENCH_FD for rank 0 only and return None (train)."""
    from workloads.common import ddp_launch
    if args.check_out:
        cli.fail(FRAMEWORK, "--check-out cannot be combined with --ddp")
    if args.mode == "graph":
        cli.fail(FRAMEWORK, "--mode graph cannot be combined with --ddp (the captured step has "
                            "no all-reduce)")
    if not ddp_launch.is_worker():
        n = args.nproc_per_node or _default_nproc(args)
        return ddp_launch.main_launch(os.path.abspath(__file__),
                                      sys.argv[1:] if argv is None else argv, n)
    try:
        rank, _, _ = ddp_launch.rank_info()
    except ValueError as e:
        cli.fail(FRAMEWORK, "--ddp: %s" % e)
    ddp_launch.hide_fd_unless_rank0(rank)
    os.environ.setdefault("NCCL_NVLS_ENABLE", "0")
    if rank == 0 and "TORCHELASTIC_RUN_ID" in os.environ and \
            ddp_launch.FD_VAR in os.environ:
        try:
            os.fstat(int(os.environ[ddp_launch.FD_VAR]))
        except (ValueError, OSError):
            sys.stderr.write("workloads/pytorch/train.py: warning: under torchrun the inherited "
                             "%s is closed, so no phase marks reach joulebench; use "
                             "--ddp --nproc-per-node N instead of torchrun\n"
                             % ddp_launch.FD_VAR)
    return None


def main(argv=None):
    args = cli.parse_args(FRAMEWORK, argv)
    if args.ddp:
        status = _ddp_entry(args, argv)
        if status is not None:
            return status
    elif args.nproc_per_node:
        cli.fail(FRAMEWORK, "--nproc-per-node needs --ddp")
    import joulebench as jb
    jb.begin("startup")
    from workloads.common import driver

    def make_backend():
        import torch
        import torchvision
        return TorchBackend(torch, torchvision)

    return driver.main(args, make_backend, FRAMEWORK)


if __name__ == "__main__":
    sys.exit(main())
