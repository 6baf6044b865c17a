using System.Runtime.InteropServices;

namespace EdgeInference.Runtime.Models;

/// <summary>
/// Why an execution provider's shared library does not load. ONNX Runtime only says "Failed to load shared library";
/// the dynamic loader says which dependency is missing (<c>libcublasLt.so.13: cannot open shared object file</c>), so
/// the library is opened here the same way, and the loader's own message is kept.
/// </summary>
internal static partial class ProviderLibraryProbe
{
    private const int LoadNow = 2;

    /// <summary>The loader's error for <paramref name="provider"/>'s library, "loads" when it does, or null for a provider that has none.</summary>
    public static string? Diagnose(string provider)
    {
        var file = provider switch
        {
            "CUDA" => "libonnxruntime_providers_cuda.so",
            "TensorRT" => "libonnxruntime_providers_tensorrt.so",
            "OpenVINO" => "libonnxruntime_providers_openvino.so",
            _ => null,
        };
        if (file is null || !OperatingSystem.IsLinux())
        {
            return null;
        }

        var path = Candidates(file).FirstOrDefault(File.Exists);
        if (path is null)
        {
            return $"{file} is not beside libonnxruntime.so";
        }

        try
        {
            // Binds dlerror before dlopen fails: binding it afterwards (a dlsym) would clear the message it keeps.
            _ = Error();
            var handle = Open(path, LoadNow);
            if (handle != IntPtr.Zero)
            {
                _ = Close(handle);
                return $"{file} loads";
            }

            return Marshal.PtrToStringUTF8(Error()) ?? $"{file} does not load";
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null; // no dynamic loader to ask
        }
    }

    /// <summary>Where ONNX Runtime looks for its provider libraries: beside libonnxruntime.so, i.e. the app (published) or its runtimes folder.</summary>
    private static IEnumerable<string> Candidates(string file)
    {
        var architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        yield return Path.Combine(AppContext.BaseDirectory, file);
        yield return Path.Combine(AppContext.BaseDirectory, "runtimes", $"linux-{architecture}", "native", file);
    }

    [LibraryImport("libdl.so.2", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr Open(string path, int flags);

    [LibraryImport("libdl.so.2", EntryPoint = "dlclose")]
    private static partial int Close(IntPtr handle);

    [LibraryImport("libdl.so.2", EntryPoint = "dlerror")]
    private static partial IntPtr Error();
}
