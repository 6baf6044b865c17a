using System.CommandLine;
using Spectre.Console;

namespace EdgeInference.Fleet.Cli;

/// <summary><c>edgefleet</c>: the command tree, runnable in-process (tests pass their own console and environment).</summary>
public static class CliApp
{
    public static RootCommand Build(CliContext cli)
    {
        ArgumentNullException.ThrowIfNull(cli);
        var root = new RootCommand("edgefleet: push signed model packages and drive staged rollouts on an EdgeInference fleet");
        root.Options.Add(cli.Fleet);
        root.Options.Add(cli.Token);
        root.Options.Add(cli.Json);
        root.Options.Add(cli.Ca);
        root.Subcommands.Add(KeysCommands.Build(cli));
        root.Subcommands.Add(ModelsCommands.Build(cli));
        root.Subcommands.Add(DevicesCommands.Build(cli));
        root.Subcommands.Add(RolloutsCommands.Build(cli));
        root.Subcommands.Add(TrustCommands.Build(cli));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, Func<string, string?> environment, CancellationToken cancellationToken)
    {
        var cli = new CliContext(console, environment);
        var parse = Build(cli).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                cli.Fail(error.Message);
            }

            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
