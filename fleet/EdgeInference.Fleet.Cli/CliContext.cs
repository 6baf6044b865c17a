using System.CommandLine;
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

    public FleetClient Client(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var url = parse.GetValue(Fleet) ?? Environment("EDGEFLEET_URL") ?? "http://127.0.0.1:5000";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ArgumentException($"--fleet '{url}' is not an http(s) URL");
        }

        return new FleetClient(url, parse.GetValue(Token) ?? Environment("EDGEFLEET_TOKEN"));
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

    public static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value => value.ToString(),
        _ => node.ToJsonString(),
    };

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
        catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or UnauthorizedAccessException)
        {
            Fail(ex.Message);
            return ExitCodes.Usage;
        }
    }

    public void Fail(string message) => Console.MarkupLine($"[red]edgefleet:[/] {Markup.Escape(message)}");
}
