using EdgeInference.Fleet.Cli;
using Spectre.Console;

namespace EdgeInference.Testing;

/// <summary>Runs <c>edgefleet</c> in this process with its own environment and a captured, uncoloured console.</summary>
public static class CliRunner
{
    public static Task<(int Code, string Output)> RunAsync(IReadOnlyDictionary<string, string> env, params string[] args) => RunAsync(env, args.AsEnumerable());

    public static async Task<(int Code, string Output)> RunAsync(IReadOnlyDictionary<string, string> env, IEnumerable<string> args)
    {
        ArgumentNullException.ThrowIfNull(env);
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 240;
        var code = await CliApp.RunAsync(args.ToArray(), console, name => env.GetValueOrDefault(name), CancellationToken.None);
        return (code, writer.ToString());
    }
}
