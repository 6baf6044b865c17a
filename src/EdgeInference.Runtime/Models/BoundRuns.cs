using System.Runtime.InteropServices;
using EdgeInference.Runtime.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Runtime.Models;

/// <summary>
/// Runs without managed allocation inside ONNX Runtime's API, for a session whose tensor shapes are fixed once
/// the batch size is known. For each batch size served, a few <see cref="OrtIoBinding"/>s are bound once to
/// pinned buffers of their own (one set per concurrent run); a run copies the request's inputs in, runs with
/// the binding and copies the outputs out. The managed <c>Run</c> overloads instead build name and handle
/// arrays and wrap every output in a new <see cref="OrtValue"/>, about 500 bytes a call.
/// </summary>
/// <remarks>
/// The shapes for a batch size are learned from a plain run (<see cref="Learn"/>). A bound run that fails is
/// retried plainly by the caller; if that succeeds, the binding is what failed (an output whose shape depends on
/// the data), and that batch size is never bound again (<see cref="Forget"/>).
/// </remarks>
internal sealed class BoundRuns : IDisposable
{
    /// <summary>Batch sizes up to this are bound; larger ones run plainly.</summary>
    private const int MaxRows = 64;

    /// <summary>Idle bindings kept per model version, in bytes of buffers: beyond it a binding is released after its run.</summary>
    private const long MaxIdleBytes = 4 << 20;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly IReadOnlyList<TensorSpec> _inputs;
    private readonly IReadOnlyList<TensorSpec> _outputs;
    private readonly int _maxIdlePerShape = Math.Max(4, 2 * Environment.ProcessorCount);
    private readonly Shapes?[] _byRows = new Shapes?[MaxRows + 1];
    private long _idleBytes;
    private int _disposed;

    private BoundRuns(InferenceSession session, RunOptions runOptions, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        _session = session;
        _runOptions = runOptions;
        _inputs = inputs;
        _outputs = outputs;
    }

    /// <summary>Bytes of buffers held by idle bindings.</summary>
    public long IdleBytes => Interlocked.Read(ref _idleBytes);

    /// <summary>
    /// Bound runs for <paramref name="session"/>, or null when its tensors cannot be bound: a BYTES tensor, or
    /// a dynamic dimension other than the first (the batch).
    /// </summary>
    public static BoundRuns? TryCreate(InferenceSession session, RunOptions runOptions, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        return inputs.Count > 0 && Bindable(inputs) && Bindable(outputs) ? new BoundRuns(session, runOptions, inputs, outputs) : null;

        static bool Bindable(IReadOnlyList<TensorSpec> specs)
        {
            foreach (var spec in specs)
            {
                if (spec.DataType == TensorDataType.Bytes || spec.Shape.AsSpan(Math.Min(1, spec.Shape.Length)).Contains(-1))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// Runs <paramref name="inputs"/> with a binding learned for their shapes, filling <paramref name="outputs"/>
    /// (the <paramref name="requested"/> ones, or all) with pooled copies. False when there is none for these
    /// shapes; throws what ONNX Runtime threw when the bound run failed.
    /// </summary>
    public bool TryRun(ReadOnlySpan<TensorBuffer?> inputs, bool[]? requested, TensorBuffer?[] outputs, PinnedBufferPool pool)
    {
        if (ShapesFor(inputs) is not { } shapes || shapes.Forgotten)
        {
            return false;
        }

        var slot = shapes.Rent();
        if (slot is not null)
        {
            Interlocked.Add(ref _idleBytes, -slot.Bytes);
        }

        slot ??= new Slot(_session, _inputs, _outputs, shapes);
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                inputs[i]!.Span.CopyTo(slot.Inputs[i]);
            }

            _session.RunWithBinding(_runOptions, slot.Binding);
            for (var i = 0; i < outputs.Length; i++)
            {
                if (requested is null || requested[i])
                {
                    var bytes = slot.Outputs[i];
                    var output = TensorBuffer.Rent(pool, _outputs[i].Name, _outputs[i].DataType, shapes.Outputs[i], bytes.Length);
                    bytes.CopyTo(output.Span);
                    outputs[i] = output;
                }
            }
        }
        catch
        {
            slot.Dispose();
            throw;
        }

        if (Interlocked.Add(ref _idleBytes, slot.Bytes) > MaxIdleBytes || !shapes.Return(slot, _maxIdlePerShape))
        {
            Interlocked.Add(ref _idleBytes, -slot.Bytes);
            slot.Dispose();
        }

        return true;
    }

    /// <summary>Records the shapes of a plain run of all outputs, so that later runs of the same input shapes are bound.</summary>
    public void Learn(ReadOnlySpan<TensorBuffer?> inputs, TensorBuffer?[] outputs)
    {
        var rows = RowsOf(inputs);
        if (rows < 0 || Volatile.Read(ref _byRows[rows]) is not null || Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        var inputShapes = new long[inputs.Length][];
        for (var i = 0; i < inputs.Length; i++)
        {
            inputShapes[i] = (long[])inputs[i]!.Shape.Clone();
        }

        var outputShapes = new long[outputs.Length][];
        for (var i = 0; i < outputs.Length; i++)
        {
            if (outputs[i] is not { } output)
            {
                return;
            }

            outputShapes[i] = (long[])output.Shape.Clone();
        }

        Interlocked.CompareExchange(ref _byRows[rows], new Shapes(inputShapes, outputShapes), null);
    }

    /// <summary>Stops binding runs of these input shapes: a bound run failed where a plain one succeeded.</summary>
    public void Forget(ReadOnlySpan<TensorBuffer?> inputs)
    {
        Interlocked.Add(ref _idleBytes, -(ShapesFor(inputs)?.Forget() ?? 0));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var shapes in _byRows)
        {
            Interlocked.Add(ref _idleBytes, -(shapes?.Forget() ?? 0));
        }
    }

    private static int RowsOf(ReadOnlySpan<TensorBuffer?> inputs)
    {
        var shape = inputs[0]!.Shape;
        var rows = shape.Length == 0 ? 1 : shape[0];
        return rows is >= 1 and <= MaxRows ? (int)rows : -1;
    }

    private Shapes? ShapesFor(ReadOnlySpan<TensorBuffer?> inputs)
    {
        var rows = RowsOf(inputs);
        if (rows < 0 || Volatile.Read(ref _byRows[rows]) is not { } shapes)
        {
            return null;
        }

        for (var i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i]!.Shape.AsSpan().SequenceEqual(shapes.Inputs[i]))
            {
                return null;
            }
        }

        return shapes;
    }

    /// <summary>The input and output shapes of one batch size, and its idle bindings.</summary>
    private sealed class Shapes(long[][] inputs, long[][] outputs)
    {
        private readonly Stack<Slot> _idle = new();
        private bool _forgotten;

        public long[][] Inputs { get; } = inputs;

        public long[][] Outputs { get; } = outputs;

        public bool Forgotten => Volatile.Read(ref _forgotten);

        public Slot? Rent()
        {
            lock (_idle)
            {
                return _idle.TryPop(out var slot) ? slot : null;
            }
        }

        /// <summary>Keeps <paramref name="slot"/> for the next run; false when it should be disposed instead.</summary>
        public bool Return(Slot slot, int maxIdle)
        {
            lock (_idle)
            {
                if (_forgotten || _idle.Count >= maxIdle)
                {
                    return false;
                }

                _idle.Push(slot);
                return true;
            }
        }

        /// <summary>Stops keeping bindings and releases the idle ones; returns their bytes.</summary>
        public long Forget()
        {
            lock (_idle)
            {
                Volatile.Write(ref _forgotten, true);
                long released = 0;
                while (_idle.TryPop(out var slot))
                {
                    released += slot.Bytes;
                    slot.Dispose();
                }

                return released;
            }
        }
    }

    /// <summary>One binding with its own pinned input and output buffers, used by one run at a time.</summary>
    private sealed class Slot : IDisposable
    {
        private readonly List<OrtValue> _values = [];

        public Slot(InferenceSession session, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs, Shapes shapes)
        {
            Binding = session.CreateIoBinding();
            try
            {
                Inputs = Bind(inputs, shapes.Inputs, input: true);
                Outputs = Bind(outputs, shapes.Outputs, input: false);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public OrtIoBinding Binding { get; }

        public byte[][] Inputs { get; } = [];

        public byte[][] Outputs { get; } = [];

        /// <summary>The bytes of its buffers.</summary>
        public long Bytes { get; private set; }

        public void Dispose()
        {
            Binding.Dispose();
            foreach (var value in _values)
            {
                value.Dispose();
            }
        }

        private byte[][] Bind(IReadOnlyList<TensorSpec> specs, long[][] shapes, bool input)
        {
            var buffers = new byte[specs.Count][];
            for (var i = 0; i < specs.Count; i++)
            {
                var spec = specs[i];
                var length = checked((int)(TensorShape.ElementCount(shapes[i]) * spec.DataType.ElementSize()));
                buffers[i] = GC.AllocateArray<byte>(length, pinned: true);
                Bytes += length;
                var value = OrtValue.CreateTensorValueWithData(
                    OrtMemoryInfo.DefaultInstance, spec.DataType.ToOnnx(), shapes[i], Marshal.UnsafeAddrOfPinnedArrayElement(buffers[i], 0), length);
                _values.Add(value);
                if (input)
                {
                    Binding.BindInput(spec.Name, value);
                }
                else
                {
                    Binding.BindOutput(spec.Name, value);
                }
            }

            return buffers;
        }
    }
}
