namespace EdgeInference.Testing;

/// <summary>Where the repository, its sample models and the published agent binaries are.</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The openWakeWord model repository made by <c>models/fetch-models.sh</c>.</summary>
    public static string SampleModels
    {
        get
        {
            var path = Path.Combine(RepositoryRoot, "models", "repository");
            return Directory.Exists(Path.Combine(path, "hey_jarvis"))
                ? path
                : throw new InvalidOperationException($"The sample models are missing at {path}: run models/fetch-models.sh (the README's test command does).");
        }
    }

    /// <summary>openWakeWord's TFLite models (<c>&lt;name&gt;.tflite</c>, the twins of <see cref="SampleModels"/>), put there by <c>models/fetch-models.sh</c>.</summary>
    public static string TfliteModels
    {
        get
        {
            var path = Path.Combine(RepositoryRoot, "models", "tflite");
            return File.Exists(Path.Combine(path, "hey_jarvis.tflite"))
                ? path
                : throw new InvalidOperationException($"The TFLite models are missing at {path}: run models/fetch-models.sh (the README's test command does).");
        }
    }

    /// <summary>
    /// TensorFlow Lite Micro's test models (int8, int16, float; README there), beside the repository in
    /// <c>../shared/models/tflite-micro</c> on the machines that have them; never copied into the project.
    /// </summary>
    public static string TfliteMicro { get; } = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "models", "tflite-micro"));

    /// <summary>The Native AOT agent published by <c>./build.sh --target=Publish</c> for a runtime identifier.</summary>
    public static string AotAgent(string rid)
    {
        var path = Path.Combine(RepositoryRoot, "artifacts", "publish", rid, "edge-agent");
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException($"The {rid} AOT agent is missing at {path}: run ./build.sh --target=Publish (the README's test command does).");
    }

    /// <summary>The fleet service's build (<c>edge-fleet.dll</c>, run with <c>dotnet</c>) in this build's configuration, to run it as a child process.</summary>
    public static string FleetService
    {
        get
        {
            // bin/<Configuration>/<framework>/ of the test assembly names the configuration the solution was built in.
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name;
            var path = Path.Combine(RepositoryRoot, "fleet", "EdgeInference.Fleet", "bin", configuration, "net10.0", "edge-fleet.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"The fleet service is not built at {path}: build the solution.");
        }
    }

    /// <summary>A fresh directory under the system temp folder, removed by the caller.</summary>
    public static string NewTempDirectory(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Copies the sample model repository (so a test may change it).</summary>
    public static string CopySampleModels(params string[] models)
    {
        var target = NewTempDirectory("models");
        foreach (var model in models)
        {
            CopyDirectory(Path.Combine(SampleModels, model), Path.Combine(target, model));
        }

        return target;
    }

    public static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "EdgeInference.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("EdgeInference.sln not found above " + AppContext.BaseDirectory);
    }
}
