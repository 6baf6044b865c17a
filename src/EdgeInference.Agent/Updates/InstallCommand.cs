using System.Globalization;
using System.Text.Json;
using EdgeInference.Contracts;
using EdgeInference.Packaging;

namespace EdgeInference.Agent.Updates;

/// <summary>
/// <c>edge-agent install PACKAGE.tar [--data DIR | --config FILE] [--wait SECONDS]</c>: installs a package from local
/// media (a USB stick, a field laptop; <c>edgefleet models export</c> writes one). The archive is checked for shape
/// and extracted into the agent's inbox (<see cref="LocalPackageInbox"/>), whole or not at all; the running agent
/// then takes it through exactly the checks and steps of an over-the-air update, and this command follows its
/// replies until the end. With the agent stopped, the package waits in the inbox for its next start.
/// </summary>
public static class InstallCommand
{
    public const string Usage = "usage: edge-agent install PACKAGE.tar [--data DIR | --config FILE] [--wait SECONDS]";

    /// <summary>The package configuration read when neither --data nor --config is given.</summary>
    public const string DefaultConfig = "/etc/edge-agent/agent.json";

    private const long MaxArchiveBytes = 4L << 30;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? archive = null, data = null, config = null;
        var wait = TimeSpan.FromMinutes(10);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--data" when i + 1 < args.Length:
                    data = args[++i];
                    break;
                case "--config" when i + 1 < args.Length:
                    config = args[++i];
                    break;
                case "--wait" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0:
                    wait = TimeSpan.FromSeconds(seconds);
                    i++;
                    break;
                case var path when archive is null && !path.StartsWith("--", StringComparison.Ordinal):
                    archive = path;
                    break;
                default:
                    await error.WriteLineAsync($"edge-agent install: unexpected '{args[i]}'\n{Usage}").ConfigureAwait(false);
                    return 2;
            }
        }

        if (archive is null)
        {
            await error.WriteLineAsync($"edge-agent install: which package?\n{Usage}").ConfigureAwait(false);
            return 2;
        }

        string inbox;
        try
        {
            inbox = Path.Combine(Path.GetFullPath(data ?? DataOf(config ?? DefaultConfig)), LocalPackageInbox.FolderName);
        }
        catch (Exception ex) when (ex is IOException or JsonException or InvalidDataException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"edge-agent install: {ex.Message} (give --data DIR or --config FILE)").ConfigureAwait(false);
            return 2;
        }

        // Extracted beside the inbox's entries under a name it skips, then renamed into place: whole or not at all.
        var id = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..16];
        var partial = Path.Combine(inbox, "." + id);
        PackageManifest manifest;
        try
        {
            var stream = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                var signed = await PackageArchive.ExtractAsync(stream, partial, MaxArchiveBytes, cancellationToken).ConfigureAwait(false);
                manifest = ManifestCodec.Parse(Convert.FromBase64String(signed.Manifest));
            }

            await HandOverAsync(Path.GetDirectoryName(inbox)!, inbox, partial, cancellationToken).ConfigureAwait(false);
            Directory.Move(partial, Path.Combine(inbox, id));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
        {
            if (Directory.Exists(partial))
            {
                Directory.Delete(partial, recursive: true);
            }

            await error.WriteLineAsync($"edge-agent install: {archive}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }

        await output.WriteLineAsync($"{manifest.Name} {manifest.Version} from {archive} is in {inbox} as {LocalPackageInbox.CommandPrefix}{id}").ConfigureAwait(false);
        if (wait == TimeSpan.Zero)
        {
            return 0;
        }

        return await FollowAsync(inbox, id, wait, output, error, time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The agent's replies to the package, printed as they change, until the last: 0 when it is installed.</summary>
    /// <summary>
    /// Run as root (<c>sudo edge-agent install</c>), what was extracted belongs to root, and the service's own user could
    /// neither move it nor answer beside it: the inbox and the package are handed to the owner of the data folder.
    /// </summary>
    private static async Task HandOverAsync(string data, string inbox, string package, CancellationToken cancellationToken)
    {
        if (!Environment.IsPrivilegedProcess || !OperatingSystem.IsLinux())
        {
            return;
        }

        string[][] steps = [["--reference", data, inbox], ["-R", "--reference", data, package]];
        foreach (var arguments in steps)
        {
            var info = new System.Diagnostics.ProcessStartInfo("chown") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var chown = System.Diagnostics.Process.Start(info) ?? throw new IOException("chown did not start");
            var message = await chown.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
            await chown.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (chown.ExitCode != 0)
            {
                throw new IOException($"giving {package} to the owner of {data} failed: {message.Trim()}");
            }
        }
    }

    private static async Task<int> FollowAsync(string inbox, string id, TimeSpan wait, TextWriter output, TextWriter error, TimeProvider time, CancellationToken cancellationToken)
    {
        var status = LocalPackageInbox.StatusPath(inbox, id);
        var deadline = time.GetUtcNow() + wait;
        string? last = null;
        while (time.GetUtcNow() < deadline)
        {
            ReplyMessage? reply = null;
            try
            {
                reply = File.Exists(status) ? JsonSerializer.Deserialize(await File.ReadAllBytesAsync(status, cancellationToken).ConfigureAwait(false), ContractJsonContext.Default.ReplyMessage) : null;
            }
            catch (Exception ex) when (ex is IOException or JsonException)
            {
                // being replaced: read it again next time
            }

            if (reply is not null)
            {
                var line = $"{reply.State.WireName()}{(reply.Step is { } step ? " " + step.WireName() : "")}{(reply.Reason is { } reason ? $" ({reason})" : "")}{(reply.Message is { } message ? ": " + message : "")}";
                if (line != last)
                {
                    await output.WriteLineAsync(line).ConfigureAwait(false);
                    last = line;
                }

                if (reply.Final)
                {
                    try
                    {
                        // The agent removes the folder too when it may (root brought it here: then only root may).
                        File.Delete(status);
                        Directory.Delete(Path.Combine(inbox, id), recursive: true);
                    }
                    catch (DirectoryNotFoundException)
                    {
                    }

                    return reply.State == ReplyState.Succeeded ? 0 : 1;
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken).ConfigureAwait(false);
        }

        await error.WriteLineAsync($"edge-agent install: no end after {wait.TotalSeconds:0} s{(last is null ? "; the agent has not taken it: is edge-agent running, with a fleet link or Updates:TrustedKeys? It stays queued for the agent's next start" : "")}").ConfigureAwait(false);
        return 3;
    }

    /// <summary><c>Agent:Data</c> of a JSON configuration file.</summary>
    private static string DataOf(string config)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(config));
        return json.RootElement.TryGetProperty("Agent", out var agent) && agent.TryGetProperty("Data", out var data) && data.GetString() is { Length: > 0 } path
            ? path
            : throw new InvalidDataException($"{config} sets no Agent:Data");
    }
}
