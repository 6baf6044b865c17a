using Microsoft.Extensions.Logging;

namespace EdgeInference.Runtime.Models;

internal static partial class RuntimeLog
{
    [LoggerMessage(1, LogLevel.Information, "Model {Model} version {Version} is ready on {Provider} after {Milliseconds} ms")]
    public static partial void VersionReady(ILogger logger, string model, long version, string provider, long milliseconds);

    [LoggerMessage(2, LogLevel.Error, "Model {Model} version {Version} failed to load: {Error}")]
    public static partial void VersionFailed(ILogger logger, string model, long version, string? error);

    [LoggerMessage(3, LogLevel.Information, "Model {Model} version {Version} is unloading")]
    public static partial void VersionRetired(ILogger logger, string model, long version);

    [LoggerMessage(4, LogLevel.Error, "Model {Model} config is invalid; serving versions already loaded: {Error}")]
    public static partial void ConfigInvalid(ILogger logger, string model, string error);

    [LoggerMessage(5, LogLevel.Warning, "Model {Model} version {Version}: {Note}")]
    public static partial void VersionNote(ILogger logger, string model, long version, string note);

    [LoggerMessage(6, LogLevel.Warning, "Model {Model} version {Version} failed to reload and keeps serving its previous files: {Error}")]
    public static partial void ReloadFailed(ILogger logger, string model, long version, string? error);
}
