using System.Globalization;

namespace EdgeInference.Demo;

/// <summary>The demo's command line: <c>edge-demo [--models DIR] [--root DIR] [--http-port N] [--mqtt-port N] [--exit-when-done] [--timeout 300]</c>.</summary>
internal sealed class DemoOptions
{
    public string Models { get; private set; } = "";

    /// <summary>Where the fleet's and the agents' data go (wiped at start: every run starts from the same place).</summary>
    public string Root { get; private set; } = "";

    public int HttpPort { get; private set; } = 5080;

    public int MqttPort { get; private set; } = 18830;

    /// <summary>Stop once every agent serves v2 and telemetry has arrived (CI); otherwise run until Ctrl+C.</summary>
    public bool ExitWhenDone { get; private set; }

    public TimeSpan Timeout { get; private set; } = TimeSpan.FromMinutes(5);

    public string RepositoryRoot { get; private set; } = "";

    public static DemoOptions Parse(string[] args)
    {
        var root = FindRepositoryRoot();
        var options = new DemoOptions
        {
            RepositoryRoot = root,
            Models = Path.Combine(root, "models", "repository"),
            Root = Path.Combine(root, "artifacts", "demo"),
        };
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--models": options.Models = Path.GetFullPath(Value()); break;
                case "--root": options.Root = Path.GetFullPath(Value()); break;
                case "--http-port": options.HttpPort = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--mqtt-port": options.MqttPort = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--exit-when-done": options.ExitWhenDone = true; break;
                case "--timeout": options.Timeout = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)); break;
                default: throw new ArgumentException($"unknown option '{args[i]}' (--models, --root, --http-port, --mqtt-port, --exit-when-done, --timeout SECONDS)");
            }
        }

        foreach (var model in DemoRunner.Models)
        {
            if (!File.Exists(Path.Combine(options.Models, model, "1", "model.onnx")))
            {
                throw new ArgumentException($"{options.Models} has no {model}/1/model.onnx: run models/fetch-models.sh (./build.sh --target=Run does)");
            }
        }

        return options;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeInference.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("edge-demo runs from the repository (it starts the fleet and agents built there)");
    }
}
