using System.Text.Json;
using EdgeInference.Fleet.Cli;
using EdgeInference.Packaging;
using EdgeInference.Runtime.Tensors;

namespace EdgeInference.Testing;

/// <summary>
/// A fleet with real agents on loopback: the fleet service in process, agents in process (each with its own
/// model repository and data folder, enrolled, trusting one signing key), and helpers to build packages.
/// </summary>
public sealed class FleetTestbed : IAsyncDisposable
{
    private readonly List<AgentHost> _agents = [];

    private FleetTestbed(FleetHost fleet, string root)
    {
        Fleet = fleet;
        Root = root;
        TrustedKeys = Path.Combine(root, "trusted-keys");
        Directory.CreateDirectory(TrustedKeys);
        File.WriteAllText(Path.Combine(TrustedKeys, "operator.pub.pem"), Key.PublicKeyPem());
    }

    public FleetHost Fleet { get; private set; }

    public string Root { get; }

    /// <summary>The operator's key, which every agent trusts.</summary>
    public SigningKey Key { get; } = SigningKey.Generate();

    public string TrustedKeys { get; }

    public IReadOnlyList<AgentHost> Agents => _agents;

    public static async Task<FleetTestbed> StartAsync(params string[] fleetArgs)
    {
        var root = TestPaths.NewTempDirectory("fleet-testbed");
        var fleet = await FleetHost.StartAsync(Path.Combine(root, "fleet"), fleetArgs);
        return new FleetTestbed(fleet, root);
    }

    public static string DeviceId(int index) => $"device-{index:00}";

    /// <summary>
    /// Enrolls and starts <paramref name="count"/> agents, each serving <paramref name="installed"/> (a package already
    /// installed as version folder 1), and waits until the fleet sees them all online.
    /// </summary>
    public async Task StartAgentsAsync(int count, Package installed, Func<int, string[]> tags, params string[] extraArgs)
    {
        ArgumentNullException.ThrowIfNull(installed);
        ArgumentNullException.ThrowIfNull(tags);
        var starting = new List<Task<AgentHost>>();
        for (var i = 0; i < count; i++)
        {
            var id = DeviceId(_agents.Count + i);
            var models = Path.Combine(Root, id, "models");
            installed.InstallAsFirstVersion(models);
            var secret = await Fleet.EnrollAsync(id, tags(i));
            starting.Add(AgentHost.StartAsync(models, Path.Combine(Root, id, "data"), [.. Fleet.AgentArguments(id, secret, TrustedKeys), .. extraArgs]));
        }

        _agents.AddRange(await Task.WhenAll(starting));
        await AgentHost.WaitUntilAsync(
            () => _agents.All(a => Fleet.Store.GetDevice(IdOf(a))?.Online == true && Fleet.Store.GetDevice(IdOf(a))!.ServingVersion(installed.Manifest.Name) is not null),
            TimeSpan.FromSeconds(60), "every agent online with its model");
    }

    /// <summary>Restarts the fleet service on the same data and ports; the agents reconnect by themselves.</summary>
    public async Task RestartFleetAsync() => Fleet = await Fleet.RestartAsync();

    /// <summary>Stops the current fleet replica; <paramref name="next"/>, another replica on the same store, serves the testbed from now on.</summary>
    public async Task FailOverAsync(FleetHost next)
    {
        ArgumentNullException.ThrowIfNull(next);
        var stopping = Fleet;
        Fleet = next;
        await stopping.DisposeAsync();
    }

    public string IdOf(AgentHost agent) => DeviceId(_agents.IndexOf(agent));

    /// <summary>
    /// Builds a package of <paramref name="model"/>: manifest from the files, golden vectors computed by bare ONNX
    /// Runtime on <paramref name="goldenFrom"/> (so a model that differs from it fails them), signed by
    /// <paramref name="key"/> (null: unsigned), with the version's own <paramref name="config"/> (config.json) if given.
    /// </summary>
    public Package BuildPackage(string name, string version, byte[] model, byte[]? goldenFrom, SigningKey? key, Action<PackageManifest>? edit = null, string? config = null) =>
        Package.Build(Path.Combine(Root, "packages"), name, version, model, goldenFrom, key, edit, config);

    /// <summary>Builds and pushes 1.0.0 and 2.0.0 of <paramref name="name"/>, signed, each with golden vectors of its own model.</summary>
    public async Task<(Package V1, Package V2)> PushTwoVersionsAsync(string name, byte[] v1, byte[] v2)
    {
        var first = BuildPackage(name, "1.0.0", v1, goldenFrom: v1, Key);
        var second = BuildPackage(name, "2.0.0", v2, goldenFrom: v2, Key);
        await PushAsync(first);
        await PushAsync(second);
        return (first, second);
    }

    public Task PushAsync(Package package)
    {
        ArgumentNullException.ThrowIfNull(package);
        return Fleet.PushAsync(package.Manifest, package.Signed, package.Files);
    }

    /// <summary>Golden vectors for a model with one FP32 input <c>[-1, n]</c>: random rows and bare ONNX Runtime's outputs.</summary>
    public static byte[] GoldenVectors(byte[] reference, int cases)
    {
        var path = Path.Combine(Path.GetTempPath(), $"golden-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, reference);
        try
        {
            using var ort = new BareOrt(path);
            var input = ort.Session.InputMetadata.Single();
            var width = input.Value.Dimensions[^1];
            var set = new GoldenSet();
            for (var i = 0; i < cases; i++)
            {
                var values = NamedTensor.RandomFloats(width, seed: 100 + i);
                var outputs = ort.Run([NamedTensor.Floats(input.Key, [1, width], values)]);
                set.Cases.Add(new GoldenCase
                {
                    Name = $"case {i + 1}",
                    Inputs = [new GoldenTensor { Name = input.Key, Datatype = "FP32", Shape = [1, width], Data = values.Select(v => (double)v).ToList() }],
                    Expected = outputs.Select(o => new GoldenTensor { Name = o.Name, Datatype = "FP32", Shape = [.. o.Shape], Data = o.AsFloats().Select(v => (double)v).ToList() }).ToList(),
                });
            }

            return JsonSerializer.SerializeToUtf8Bytes(set, PackageJsonContext.Default.GoldenSet);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        await Fleet.DisposeAsync();
        Key.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a stopping agent; the temp folder is cleaned up later.
        }
    }
}
