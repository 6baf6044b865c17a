using EdgeInference.Runtime.Configuration;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Metrics;
using EdgeInference.Runtime.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace EdgeInference.Runtime.Models;

/// <summary>
/// One version of a model: its ONNX Runtime session (owned here, released when the last request using it
/// finishes), its declared inputs and outputs, the execution provider it runs on, and its metrics.
/// </summary>
public sealed class ModelVersion
{
    /// <summary>A warm run faster than this on the shared pool is also tried inline on the caller's thread.</summary>
    private static readonly TimeSpan InlineTrialThreshold = TimeSpan.FromMilliseconds(2);

    private readonly Func<InferenceSession>? _createInlineSession;
    private InferenceSession? _session;
    private readonly RunOptions? _runOptions;
    private readonly string[] _inputNames = [];
    private readonly string[] _outputNames = [];
    private readonly ModelRuntimeContext _context;
    private MicroBatcher? _batcher;
    private BoundRuns? _bound;
    private PredictionCache? _cache;
    private int _references = 1;
    private int _retired;
    private volatile ModelVersionState _state;
    private volatile string? _error;

    private ModelVersion(ModelRuntimeContext context, string modelName, long version, string fingerprint)
    {
        _context = context;
        ModelName = modelName;
        Version = version;
        VersionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Fingerprint = fingerprint;
    }

    private ModelVersion(
        ModelRuntimeContext context, string modelName, long version, string fingerprint, ModelConfig config,
        InferenceSession session, ExecutionProviderChoice provider, Func<InferenceSession>? createInlineSession)
        : this(context, modelName, version, fingerprint)
    {
        _session = session;
        _createInlineSession = createInlineSession;
        Threading = createInlineSession is null ? "own pool" : "shared pool";
        _runOptions = new RunOptions();
        Config = config;
        ExecutionProvider = provider.Provider;
        ExecutionProviderNotes = provider.Notes;
        Inputs = ReadSpecs(session.InputMetadata, "input");
        Outputs = ReadSpecs(session.OutputMetadata, "output");
        _inputNames = Inputs.Select(s => s.Name).ToArray();
        _outputNames = Outputs.Select(s => s.Name).ToArray();
        _state = ModelVersionState.Loading;
    }

    public string ModelName { get; }

    public long Version { get; }

    /// <summary>The version as the protocols spell it.</summary>
    public string VersionText { get; }

    /// <summary>Identifies the files this version was loaded from; a change means reload.</summary>
    public string Fingerprint { get; }

    public ModelConfig Config { get; } = new();

    /// <summary>The version's directory, where model.onnx and an optional profile.json live; null when it failed to load.</summary>
    public string? Directory { get; private init; }

    public ModelVersionState State => _state;

    /// <summary>Why the version failed to load or warm up (ONNX Runtime's own message where it had one).</summary>
    public string? Error => _error;

    public IReadOnlyList<TensorSpec> Inputs { get; } = [];

    public IReadOnlyList<TensorSpec> Outputs { get; } = [];

    /// <summary>The execution provider the session runs on, e.g. <c>CPU</c> or <c>QNN</c>.</summary>
    public string ExecutionProvider { get; } = "none";

    /// <summary>Why each more preferred provider was passed over.</summary>
    public IReadOnlyList<string> ExecutionProviderNotes { get; } = [];

    /// <summary>Warnings from loading, e.g. why batching is off.</summary>
    public IList<string> Notes { get; } = [];

    public bool IsBatching => _batcher is not null;

    /// <summary>How runs use threads: <c>shared pool</c>, <c>inline</c> (on the caller's thread) or <c>own pool</c> (configured).</summary>
    public string Threading { get; private set; } = "shared pool";

    public bool IsCaching => _cache is not null;

    /// <summary>Turns this version's prediction cache off, for a benchmark that must time the model and not the cache.</summary>
    public void DisableCache() => _cache = null;

    /// <summary>Bytes of pinned buffers held by idle I/O bindings (see <see cref="BoundRuns"/>).</summary>
    internal long BoundIdleBytes => _bound?.IdleBytes ?? 0;

    public ModelMetrics Metrics { get; } = new();

    /// <summary>Loads a version; never throws for a bad model: the result is then <see cref="ModelVersionState.Failed"/>.</summary>
    internal static ModelVersion Load(ModelRuntimeContext context, string modelName, long version, string modelPath, string fingerprint, ModelConfig config)
    {
        InferenceSession? session = null;
        try
        {
            // With the shared thread pool (no threads configured), a model whose runs are too short to gain from
            // threads is also tried inline on the request's thread, and the faster way is kept (see WarmUp).
            var shared = context.Environment is { HasGlobalThreadPool: true } && config.Threads is null;
            (InferenceSession Session, ExecutionProviderChoice Provider, string? CacheNote) Create(bool inline)
            {
                using var options = new SessionOptions
                {
                    GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                    LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
                    IntraOpNumThreads = inline ? 1 : config.Threads?.IntraOp ?? 0,
                    InterOpNumThreads = inline ? 1 : config.Threads?.InterOp ?? 0,
                };
                if (shared && !inline)
                {
                    options.DisablePerSessionThreads();
                }
                else if (!(config.Threads?.AllowSpinning ?? false))
                {
                    // Spinning intra-op threads keep cores busy after each run: on a small device that is
                    // CPU stolen from the other models, the HTTP server and the app, and battery.
                    options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
                    options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
                }

                var provider = context.Providers.Apply(options, config.ExecutionProviders);
                var opened = Open(context.OptimizedModels?.EntryFor(modelName, version, modelPath, fingerprint, provider.Provider), modelPath, options, out var note);
                return (opened, provider, note);
            }

            (session, var chosen, var cacheNote) = Create(inline: false);
            var loaded = new ModelVersion(context, modelName, version, fingerprint, config, session, chosen, shared ? () => Create(inline: true).Session : null)
            {
                Directory = Path.GetDirectoryName(Path.GetFullPath(modelPath)),
            };
            if (cacheNote is not null)
            {
                loaded.Notes.Add(cacheNote);
            }

            session = null;
            loaded.Start();
            return loaded;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or NotSupportedException or IOException or InferenceException)
        {
            session?.Dispose();
            return Failed(context, modelName, version, fingerprint, ex.Message);
        }
    }

    /// <summary>
    /// A session over the cached optimized model when there is one, else over the model itself, saving its optimized
    /// form for next time; an entry ONNX Runtime cannot load (torn, or from another build) is removed and the model
    /// loads from its own file.
    /// </summary>
    private static InferenceSession Open(OptimizedModelEntry? cached, string modelPath, SessionOptions options, out string? note)
    {
        note = null;
        if (cached is null)
        {
            return new InferenceSession(modelPath, options);
        }

        string? discarded = null;
        if (cached.Exists)
        {
            try
            {
                var fromCache = new InferenceSession(cached.Path, options);
                note = $"loaded from the optimized-model cache ({cached.Path})";
                return fromCache;
            }
            catch (OnnxRuntimeException ex)
            {
                cached.Discard();
                discarded = $"the optimized-model cache entry could not be loaded and was replaced ({ex.Message}); ";
            }
        }

        try
        {
            cached.Prepare();
            options.OptimizedModelFilePath = cached.Temporary;
            options.AddSessionConfigEntry("session.save_model_format", "ORT");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new InferenceSession(modelPath, options); // no room or no rights for the cache: load as if it were off
        }

        InferenceSession session;
        try
        {
            session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException)
        {
            // Perhaps only the save failed (a graph ONNX Runtime cannot write in its own format): load without it, and
            // let a model that really is broken fail here, with its own error.
            cached.Discard();
            options.OptimizedModelFilePath = "";
            return new InferenceSession(modelPath, options);
        }

        try
        {
            note = cached.Commit() ? $"{discarded}optimized model saved to the cache ({cached.Path})" : discarded;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            cached.Discard();
            note = $"{discarded}the optimized model could not be saved to the cache: {ex.Message}";
        }

        return session;
    }

    internal static ModelVersion Failed(ModelRuntimeContext context, string modelName, long version, string fingerprint, string error)
    {
        var failed = new ModelVersion(context, modelName, version, fingerprint) { _state = ModelVersionState.Failed, _error = error };
        failed._references = 0;
        return failed;
    }

    /// <summary>Takes a reference for one request; false when the version is going away.</summary>
    public bool TryAcquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current <= 0 || _state != ModelVersionState.Ready)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>Gives back a reference taken with <see cref="TryAcquire"/>.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Close();
        }
    }

    /// <summary>Stops taking requests; the session is released once those in flight finish.</summary>
    internal void Retire()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 1)
        {
            return;
        }

        if (_state != ModelVersionState.Failed)
        {
            _state = ModelVersionState.Unloading;
            Release();
        }
    }

    /// <summary>The position of input <paramref name="name"/>, or -1.</summary>
    public int InputIndex(string name) => Array.IndexOf(_inputNames, name);

    /// <summary>The position of output <paramref name="name"/>, or -1.</summary>
    public int OutputIndex(string name) => Array.IndexOf(_outputNames, name);

    /// <summary>Runs one request: validation, cache, batching or a direct run, metrics.</summary>
    public async ValueTask<InferenceResponse> InferAsync(InferenceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = _context.Time.GetTimestamp();
        var failed = true;
        try
        {
            ValidateInputs(request);
            PredictionCacheKey key = default;
            if (_cache is not null)
            {
                key = PredictionCacheKey.Compute(this, request);
                var cached = _cache.TryGet(key, _context.Pool);
                Metrics.RecordCache(cached is not null);
                if (cached is not null)
                {
                    failed = false;
                    return new InferenceResponse(this, request.Id, cached, fromCache: true);
                }
            }

            var outputs = _batcher is not null
                ? await _batcher.RunAsync(request, cancellationToken).ConfigureAwait(false)
                : Run(request.Inputs, request.RequestedOutputs);
            _cache?.Add(key, outputs);
            failed = false;
            return new InferenceResponse(this, request.Id, outputs, fromCache: false);
        }
        finally
        {
            Metrics.RecordRequest(_context.Time.GetElapsedTime(started).TotalSeconds, failed);
        }
    }

    /// <summary>Checks the request's inputs against the model's: presence, datatype, shape and element count.</summary>
    public void ValidateInputs(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        for (var i = 0; i < Inputs.Count; i++)
        {
            var spec = Inputs[i];
            var tensor = request.Inputs[i]
                ?? throw new InferenceException(InferenceErrorKind.InvalidInput, $"input '{spec.Name}' is missing; the model needs {string.Join(", ", _inputNames)}");
            if (tensor.DataType != spec.DataType)
            {
                throw new InferenceException(InferenceErrorKind.InvalidInput,
                    $"input '{spec.Name}' has datatype {tensor.DataType.ToProtocolName()} but the model expects {spec.DataType.ToProtocolName()}");
            }

            if (!TensorShape.Fits(spec.Shape, tensor.Shape))
            {
                throw new InferenceException(InferenceErrorKind.InvalidInput,
                    $"input '{spec.Name}' has shape {TensorShape.Format(tensor.Shape)} but the model expects {TensorShape.Format(spec.Shape)}");
            }

            var elements = TensorShape.ElementCount(tensor.Shape);
            if (elements < 0)
            {
                throw new InferenceException(InferenceErrorKind.InvalidInput, $"input '{spec.Name}' has an invalid or too large shape {TensorShape.Format(tensor.Shape)}");
            }

            var actual = spec.DataType == TensorDataType.Bytes ? TensorShape.CountBytesElements(tensor.Span) : tensor.Length / spec.DataType.ElementSize();
            var exact = spec.DataType == TensorDataType.Bytes || tensor.Length % spec.DataType.ElementSize() == 0;
            if (actual != elements || !exact)
            {
                throw new InferenceException(InferenceErrorKind.InvalidInput,
                    $"input '{spec.Name}' has {Math.Max(actual, 0)} elements but shape {TensorShape.Format(tensor.Shape)} needs {elements}");
            }
        }
    }

    /// <summary>Runs the session once on <paramref name="inputs"/> (already validated) and copies the outputs into pooled buffers.</summary>
    internal TensorBuffer?[] Run(ReadOnlySpan<TensorBuffer?> inputs, bool[]? requested, bool warmUp = false)
    {
        var session = _session ?? throw new InferenceException(InferenceErrorKind.Unavailable, $"model '{ModelName}' version {VersionText} is not loaded");
        var outputs = new TensorBuffer?[Outputs.Count];
        var bound = _bound;
        OnnxRuntimeException? boundFailure = null;
        try
        {
            if (bound is not null && bound.TryRun(inputs, requested, outputs, _context.Pool))
            {
                ObserveBatch(inputs, warmUp);
                return outputs;
            }
        }
        catch (OnnxRuntimeException ex)
        {
            DisposeAll(outputs);
            boundFailure = ex;
        }

        RunPlainly(session, inputs, requested, outputs);
        if (boundFailure is not null)
        {
            // The same inputs ran without the binding: it was the binding that failed, e.g. an output whose
            // shape depends on the data.
            bound!.Forget(inputs);
        }
        else if (requested is null)
        {
            bound?.Learn(inputs, outputs);
        }

        ObserveBatch(inputs, warmUp);
        return outputs;
    }

    /// <summary>Counts a run in the batch-size histogram, unless it was a warm-up's.</summary>
    private void ObserveBatch(ReadOnlySpan<TensorBuffer?> inputs, bool warmUp)
    {
        if (!warmUp)
        {
            Metrics.BatchSize.Observe(inputs.Length > 0 && inputs[0]!.Shape.Length > 0 ? inputs[0]!.Shape[0] : 1);
        }
    }

    private void RunPlainly(InferenceSession session, ReadOnlySpan<TensorBuffer?> inputs, bool[]? requested, TensorBuffer?[] outputs)
    {
        var values = new OrtValue[_inputNames.Length];
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = CreateOrtValue(inputs[i]!);
            }

            var names = requested is null ? _outputNames : SelectOutputs(requested);
            using var results = session.Run(_runOptions, _inputNames, values, names);
            var j = 0;
            foreach (var result in results)
            {
                var spec = requested is null ? Outputs[j] : Outputs[Array.IndexOf(_outputNames, names[j])];
                outputs[spec.Index] = CopyOutput(result, spec);
                j++;
            }
        }
        catch (OnnxRuntimeException ex)
        {
            DisposeAll(outputs);
            var kind = ex.Message.Contains("InvalidArgument", StringComparison.Ordinal) ? InferenceErrorKind.InvalidInput : InferenceErrorKind.Internal;
            throw new InferenceException(kind, $"ONNX Runtime could not run model '{ModelName}' version {VersionText}: {ex.Message}", ex);
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }
        }
    }

    private static void DisposeAll(TensorBuffer?[] tensors)
    {
        for (var i = 0; i < tensors.Length; i++)
        {
            tensors[i]?.Dispose();
            tensors[i] = null;
        }
    }

    private static TensorSpec[] ReadSpecs(IReadOnlyDictionary<string, NodeMetadata> metadata, string kind)
    {
        var specs = new TensorSpec[metadata.Count];
        var i = 0;
        foreach (var (name, node) in metadata)
        {
            if (!node.IsTensor || !TensorDataTypes.TryFromOnnx(node.ElementDataType, out var type))
            {
                throw new NotSupportedException($"{kind} '{name}' is a {node.OnnxValueType} of {node.ElementDataType}, which the agent cannot serve");
            }

            specs[i] = new TensorSpec(i, name, type.Value, Array.ConvertAll(node.Dimensions, d => (long)d));
            i++;
        }

        return specs;
    }

    private static OrtValue CreateOrtValue(TensorBuffer tensor)
    {
        if (tensor.DataType != TensorDataType.Bytes)
        {
            return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, tensor.DataType.ToOnnx(), tensor.Shape, tensor.Pointer, tensor.Length);
        }

        var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Shape);
        var data = (ReadOnlySpan<byte>)tensor.Span;
        for (var i = 0; !data.IsEmpty; i++)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(data);
            value.StringTensorSetElementAt(data.Slice(4, length), i);
            data = data[(4 + length)..];
        }

        return value;
    }

    private TensorBuffer CopyOutput(OrtValue value, TensorSpec spec)
    {
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        if (spec.DataType != TensorDataType.Bytes)
        {
            var raw = value.GetTensorDataAsSpan<byte>();
            var buffer = TensorBuffer.Rent(_context.Pool, spec.Name, spec.DataType, shape, raw.Length);
            raw.CopyTo(buffer.Span);
            return buffer;
        }

        using var writer = new TensorBufferWriter(_context.Pool);
        var count = info.ElementCount;
        for (var i = 0; i < count; i++)
        {
            writer.AppendBytesElement(value.GetStringElementAsSpan(i));
        }

        return writer.Detach(spec.Name, spec.DataType, shape);
    }

    private string[] SelectOutputs(bool[] requested)
    {
        var names = new List<string>(_outputNames.Length);
        for (var i = 0; i < _outputNames.Length; i++)
        {
            if (requested[i])
            {
                names.Add(_outputNames[i]);
            }
        }

        return names.ToArray();
    }

    /// <summary>Sets up batching and caching, warms up, and marks the version ready (or failed).</summary>
    private void Start()
    {
        var batching = Config.Batching;
        if (batching is { MaxBatchSize: > 1 })
        {
            var fixedTensor = Inputs.Concat(Outputs).FirstOrDefault(s => !s.HasDynamicBatchDimension);
            if (fixedTensor is null)
            {
                _batcher = new MicroBatcher(this, batching.MaxBatchSize, TimeSpan.FromTicks(batching.MaxQueueDelayMicroseconds * 10L), batching.MaxQueueSize, _context);
            }
            else
            {
                Notes.Add($"batching is off: '{fixedTensor.Name}' has no dynamic first dimension");
            }
        }

        if (Config.Cache is { Enabled: true } cache)
        {
            _cache = new PredictionCache(cache.MaxEntries, cache.MaxBytes);
        }

        try
        {
            WarmUp();
            _bound ??= BoundRuns.TryCreate(_session!, _runOptions!, Inputs, Outputs);
            _state = ModelVersionState.Ready;
        }
        catch (InferenceException ex)
        {
            _error = $"warm-up failed: {ex.Message}";
            _state = ModelVersionState.Failed;
            Close();
        }
    }

    private void WarmUp()
    {
        var warmup = Config.Warmup ?? new WarmupConfig();
        if (warmup.Iterations == 0)
        {
            return;
        }

        var request = new InferenceRequest(Inputs.Count);
        try
        {
            foreach (var spec in Inputs)
            {
                var configured = warmup.Inputs?.FirstOrDefault(i => i.Name == spec.Name);
                if (warmup.Inputs is not null && configured is null)
                {
                    throw new InferenceException(InferenceErrorKind.InvalidInput, $"warmup.inputs has no entry for input '{spec.Name}'");
                }

                var shape = configured?.Shape.ToArray() ?? Array.ConvertAll(spec.Shape, d => d < 0 ? 1L : d);
                request.Inputs[spec.Index] = WarmupTensor(spec, shape, configured?.Value ?? 0);
            }

            ValidateInputs(request);
            for (var i = 0; i < warmup.Iterations; i++)
            {
                RunAndDiscard(request);
            }

            ChooseThreading(request, warmup.Iterations);
            _bound = BoundRuns.TryCreate(_session!, _runOptions!, Inputs, Outputs);
            if (_bound is not null)
            {
                // The first run learns the shapes, the second binds them.
                RunAndDiscard(request);
                RunAndDiscard(request);
            }
        }
        catch (InferenceException ex) when (warmup.Inputs is null)
        {
            // Zero inputs with dynamic dimensions of 1 are a guess; a model they do not suit still serves.
            Notes.Add($"automatic warm-up was skipped: {ex.Message}");
        }
        finally
        {
            request.Dispose();
        }
    }

    /// <summary>
    /// Keeps whichever is faster for a short-running model: its runs spread over the shared intra-op pool, or
    /// inline on the caller's thread (no hand-off to pool threads, and concurrent requests run side by side).
    /// </summary>
    private void ChooseThreading(InferenceRequest request, int warmupIterations)
    {
        if (_createInlineSession is null || _session is not { } pooled)
        {
            return;
        }

        var pooledTime = MedianRun(request);
        if (pooledTime >= InlineTrialThreshold)
        {
            return;
        }

        try
        {
            _session = _createInlineSession();
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or IOException)
        {
            _session = pooled;
            Notes.Add($"running inline was not tried: {ex.Message}");
            return;
        }

        for (var i = 0; i < warmupIterations; i++)
        {
            RunAndDiscard(request);
        }

        var inlineTime = MedianRun(request);
        if (inlineTime < pooledTime)
        {
            pooled.Dispose();
            Threading = "inline";
        }
        else
        {
            _session.Dispose();
            _session = pooled;
        }

        Notes.Add($"runs {Threading}: a warm run took {inlineTime.TotalMicroseconds:0} µs inline and {pooledTime.TotalMicroseconds:0} µs on the shared thread pool");
    }

    private TimeSpan MedianRun(InferenceRequest request)
    {
        Span<long> ticks = stackalloc long[7];
        for (var i = 0; i < ticks.Length; i++)
        {
            var started = _context.Time.GetTimestamp();
            RunAndDiscard(request);
            ticks[i] = _context.Time.GetTimestamp() - started;
        }

        ticks.Sort();
        return TimeSpan.FromTicks(ticks[ticks.Length / 2] * TimeSpan.TicksPerSecond / _context.Time.TimestampFrequency);
    }

    private void RunAndDiscard(InferenceRequest request)
    {
        foreach (var output in Run(request.Inputs, null, warmUp: true))
        {
            output?.Dispose();
        }
    }

    private TensorBuffer WarmupTensor(TensorSpec spec, long[] shape, double value)
    {
        var count = (int)Math.Max(TensorShape.ElementCount(shape), 0);
        if (spec.DataType == TensorDataType.Bytes)
        {
            var strings = TensorBuffer.Rent(_context.Pool, spec.Name, spec.DataType, shape, count * 4);
            strings.Span.Clear();
            return strings;
        }

        var tensor = TensorBuffer.Rent(_context.Pool, spec.Name, spec.DataType, shape, count * spec.DataType.ElementSize());
        TensorValues.Fill(tensor.Span, spec.DataType, value);
        return tensor;
    }

    private void Close()
    {
        _batcher?.Dispose();
        _bound?.Dispose();
        _session?.Dispose();
        _runOptions?.Dispose();
    }
}
