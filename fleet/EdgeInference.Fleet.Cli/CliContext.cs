using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary>What every command shares: the global options, the console, and how results are printed (tables, or JSON with <c>--json</c>).</summary>
public sealed class CliContext
{
    public CliContext(IAnsiConsole console, Func<string, string?> environment)
    {
        Console = console;
        Environment = environment;
    }

    public IAnsiConsole Console { get; }

    public Func<string, string?> Environment { get; }

    public Option<string?> Fleet { get; } = new("--fleet") { Description = "The fleet service's URL (default $EDGEFLEET_URL, else http://127.0.0.1:5000)", Recursive = true };

    public Option<string?> Token { get; } = new("--token") { Description = "Operator or reader token (default $EDGEFLEET_TOKEN)", Recursive = true };

    public Option<bool> Json { get; } = new("--json") { Description = "Print JSON for scripts instead of tables", Recursive = true };

    public Option<string?> Ca { get; } = new("--ca")
    {
        Description = "PEM certificate to trust for the fleet's HTTPS instead of the system's store, e.g. the fleet's own DATA/tls/fleet.crt.pem (default $EDGEFLEET_CA)",
        Recursive = true,
    };

    public FleetClient Client(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var url = parse.GetValue(Fleet) ?? Environment("EDGEFLEET_URL") ?? "http://127.0.0.1:5000";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--fleet '{url}' is not an http(s) URL");
        }

        var ca = parse.GetValue(Ca) ?? Environment("EDGEFLEET_CA");
        return new FleetClient(url, parse.GetValue(Token) ?? Environment("EDGEFLEET_TOKEN"), ca is null ? null : PinnedHandler(ca));
    }

    /// <summary>Prints <paramref name="node"/> as JSON with <c>--json</c>; otherwise runs <paramref name="human"/>.</summary>
    public void Print(ParseResult parse, JsonNode? node, Action human)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(human);
        if (parse.GetValue(Json))
        {
            Console.Profile.Out.Writer.WriteLine(node?.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) ?? "null");
        }
        else
        {
            human();
        }
    }

    /// <summary>Prints <paramref name="value"/>, one of the API contract's records, as JSON with <c>--json</c>; otherwise runs <paramref name="human"/>.</summary>
    public void Print<T>(ParseResult parse, T value, JsonTypeInfo<T> type, Action human) => Print(parse, JsonSerializer.SerializeToNode(value, type), human);

    public static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value => value.ToString(),
        _ => node.ToJsonString(),
    };

    /// <summary>An HTTP handler that trusts the certificates in <paramref name="caFile"/> (PEM) and nothing else, names checked.</summary>
    public static SocketsHttpHandler PinnedHandler(string caFile)
    {
        if (!File.Exists(caFile))
        {
            throw new IOException($"--ca '{caFile}' does not exist");
        }

        var anchors = new System.Security.Cryptography.X509Certificates.X509Certificate2Collection();
        anchors.ImportFromPemFile(caFile);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null || (errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                return false;
            }

            using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
            chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
            chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
            using var presented = new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate);
            return chain.Build(presented);
        };
        return handler;
    }

    /// <summary>Runs a command body, turning failures into a message on stderr and an exit code.</summary>
    public async Task<int> RunAsync(Func<Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (FleetApiException ex)
        {
            Fail($"the fleet refused ({ex.Status}): {ex.Message}");
            return ex.ExitCode;
        }
        catch (FleetUnreachableException ex)
        {
            Fail(ex.Message);
            return ExitCodes.Unreachable;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Fail(ex.Message);
            return ExitCodes.Usage;
        }
    }

    public void Fail(string message) => Console.MarkupLine($"[red]edgefleet:[/] {Markup.Escape(message)}");
}
