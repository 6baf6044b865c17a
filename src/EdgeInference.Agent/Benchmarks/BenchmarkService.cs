using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using EdgeInference.Agent.Commands;
using EdgeInference.Agent.Protocols;
using EdgeInference.Agent.Updates;
using EdgeInference.Contracts;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Inference;
using EdgeInference.Runtime.Models;
using EdgeInference.Runtime.Tensors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Benchmarks;

/// <summary>
/// The benchmark loop: one <c>benchmark</c> command at a time. The package is verified (signature, URL) and downloaded
/// as a deploy's is, into a folder of its own; its model loads in a repository of its own, with the execution provider
/// its config asks for; after warm-up it runs the timed iterations on the package's first golden vector (or zeros of
/// the model's input shapes), with its prediction cache off, and the reply carries p50/p95/p99, the load time, the
/// growth of resident memory and the provider. Nothing the agent serves is touched, and the folder is removed afterwards.
/// </summary>
public sealed class BenchmarkService : BackgroundService
{
    private readonly Channel<CommandMessage> _queue = Channel.CreateBounded<CommandMessage>(new BoundedChannelOptions(8) { SingleReader = true });
    private readonly DeviceTrust _trust;
    private readonly PackageDownloader _downloader;
    private readonly CommandReporter _reporter;
    private readonly ModelRuntimeContext _context;
    private readonly PinnedBufferPool _pool;
    private readonly string _root;
    private readonly ILogger<BenchmarkService> _logger;

    /// <param name="root">Where packages being benchmarked are put (one folder per command, removed after it).</param>
    public BenchmarkService(DeviceTrust trust, PackageDownloader downloader, CommandReporter reporter, ModelRuntimeContext context, PinnedBufferPool pool, string root, ILogger<BenchmarkService> logger)
    {
        _trust = trust;
        _downloader = downloader;
        _reporter = reporter;
        _context = context;
        _pool = pool;
        _root = root;
        _logger = logger;
    }

    public bool Enqueue(CommandMessage command) => _queue.Writer.TryWrite(command);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true); // what a crash mid-benchmark left
        }

        await foreach (var command in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await _reporter.ReplyAsync(await RunAsync(command, stoppingToken).ConfigureAwait(false), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The loop boundary: one command's failure is reported and the next command runs.
                UpdateLog.CommandCrashed(_logger, command.Id, ex);
                await _reporter.ReplyAsync(Reply(command, ReplyState.Failed, "internal_error", ex.Message), stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<ReplyMessage> RunAsync(CommandMessage command, CancellationToken cancellationToken)
    {
        if (command.Deploy is not { } package || command.Benchmark is not { } settings)
        {
            return Reply(command, ReplyState.Rejected, RejectionReasons.Malformed, "a benchmark command needs 'deploy' (the package) and 'benchmark' (the iterations)");
        }

        PackageManifest manifest;
        try
        {
            if (settings.Problem() is { } problem)
            {
                throw new PackageRejectedException(RejectionReasons.Malformed, problem);
            }

            manifest = _trust.VerifyPackage(package.Package);
            PackageDownloader.CheckUrl(package.PackageUrl);
        }
        catch (PackageRejectedException ex)
        {
            return Reply(command, ReplyState.Rejected, ex.Reason, ex.Message);
        }

        // <root>/current/models/<model>/1 is a repository of its own; the package's config.json sits at the model's level,
        // as installed ones do. One benchmark runs at a time, and the folder is never named by the command (an id of ".."
        // would point outside the root).
        var folder = Path.Combine(_root, "current");
        var repository = Path.Combine(folder, "models");
        var version = Path.Combine(repository, manifest.Name, "1");
        try
        {
            var downloads = Directory.CreateDirectory(Path.Combine(folder, "downloads")).FullName;
            Directory.CreateDirectory(version);
            foreach (var file in manifest.Files)
            {
                var downloaded = await _downloader.DownloadAsync(package.PackageUrl, file, downloads, package.DownloadToken, cancellationToken).ConfigureAwait(false);
                File.Move(downloaded, Path.Combine(file.Role == PackageRoles.Config ? Path.GetDirectoryName(version)! : version, PackageRoles.FileNames[file.Role]));
            }

            var reply = await MeasureAsync(command, manifest, settings, repository, version, cancellationToken).ConfigureAwait(false);
            reply.Version = manifest.Version;
            return reply;
        }
        catch (PackageRejectedException ex)
        {
            return Reply(command, ReplyState.Rejected, ex.Reason, ex.Message);
        }
        catch (UpdateFailedException ex)
        {
            return Reply(command, ReplyState.Failed, ex.Reason, ex.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private async Task<ReplyMessage> MeasureAsync(CommandMessage command, PackageManifest manifest, BenchmarkCommand settings, string root, string folder, CancellationToken cancellationToken)
    {
        var before = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        using var side = new ModelRepository(root, _context);
        side.Reconcile(manifest.Name, cancellationToken);
        ModelVersion model;
        try
        {
            model = side.Acquire(manifest.Name, "1");
        }
        catch (InferenceException ex)
        {
            return Reply(command, ReplyState.Failed, "load_failed", ex.Message);
        }

        try
        {
            var loadMs = clock.Elapsed.TotalMilliseconds;

            // The same input every run would be answered by the prediction cache, if the package's config turns it on.
            model.DisableCache();
            var golden = Path.Combine(folder, PackageRoles.FileNames[PackageRoles.Golden]);
            var (json, source) = File.Exists(golden) && GoldenRunner.Read(golden).Cases is [var first, ..]
                ? (GoldenRunner.RequestJson(first), "golden")
                : (GoldenRunner.RequestJson(Zeros(model)), "zeros");
            InferenceRequest request;
            try
            {
                request = V2InferRequestReader.Read(json, [], model, _pool, out _);
            }
            catch (Exception ex) when (ex is FormatException or InferenceException)
            {
                return Reply(command, ReplyState.Failed, "bad_inputs", $"the {source} inputs do not fit the model: {ex.Message}");
            }

            using (request)
            {
                for (var i = 0; i < settings.Warmup; i++)
                {
                    (await model.InferAsync(request, cancellationToken).ConfigureAwait(false)).Dispose();
                }

                var times = new double[settings.Iterations];
                for (var i = 0; i < times.Length; i++)
                {
                    clock.Restart();
                    (await model.InferAsync(request, cancellationToken).ConfigureAwait(false)).Dispose();
                    times[i] = clock.Elapsed.TotalMilliseconds;
                }

                Array.Sort(times);
                double Percentile(double p) => Math.Round(times[(int)Math.Min(times.Length - 1, Math.Ceiling(p * times.Length) - 1)], 4);
                var reply = Reply(command, ReplyState.Succeeded, null, string.Create(CultureInfo.InvariantCulture, $"p50 {Percentile(0.5)} ms over {times.Length} runs"));
                reply.Benchmark = new BenchmarkResult
                {
                    Iterations = times.Length, Provider = model.ExecutionProvider, ProviderNotes = model.ExecutionProviderNotes.Count > 0 ? [.. model.ExecutionProviderNotes] : null,
                    Inputs = source, LoadMs = Math.Round(loadMs, 2), MeanMs = Math.Round(times.Average(), 4),
                    P50Ms = Percentile(0.5), P95Ms = Percentile(0.95), P99Ms = Percentile(0.99), RssIncreaseBytes = Math.Max(0, Environment.WorkingSet - before),
                };
                return reply;
            }
        }
        finally
        {
            model.Release();
        }
    }

    /// <summary>One request of zeros, every dynamic dimension 1: for a package without golden vectors.</summary>
    private static GoldenCase Zeros(ModelVersion model) => new()
    {
        Inputs =
        [
            .. model.Inputs.Select(input =>
            {
                var shape = input.Shape.Select(d => d < 0 ? 1 : d).ToList();
                return new GoldenTensor { Name = input.Name, Datatype = input.DataType.ToProtocolName(), Shape = shape, Data = [.. Enumerable.Repeat(0.0, (int)shape.Aggregate(1L, (a, b) => a * b))] };
            }),
        ],
    };

    private static ReplyMessage Reply(CommandMessage command, ReplyState state, string? reason, string message) => new()
    {
        CommandId = command.Id, Command = CommandNames.Benchmark, State = state, Reason = reason, Message = message, Model = command.Model, Final = true,
    };
}
