using System.Text.Json;
using EdgeInference.Agent.Benchmarks;
using EdgeInference.Agent.Cloud;
using EdgeInference.Agent.Diagnostics;
using EdgeInference.Agent.Settings;
using EdgeInference.Agent.Updates;
using EdgeInference.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeInference.Agent.Commands;

/// <summary>
/// Takes the commands the MQTT link receives, checks them, and hands them on: model work (deploy, rollback,
/// reload) goes to the <see cref="UpdateService"/>'s queue, so the link's receive loop never waits on it.
/// A command that cannot run is answered <c>rejected</c> with the reason.
/// </summary>
internal sealed class CommandDispatcher : IHostedService
{
    /// <summary>The log lines a <c>collect_logs</c> reply carries (the newest).</summary>
    private const int MaxLogLines = 300;

    private readonly MqttLink _link;
    private readonly UpdateService _updates;
    private readonly BenchmarkService _benchmarks;
    private readonly CommandReporter _reporter;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly RecentLogs _logs;
    private readonly DeviceSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<CommandDispatcher> _logger;

    public CommandDispatcher(MqttLink link, UpdateService updates, BenchmarkService benchmarks, CommandReporter reporter, IHostApplicationLifetime lifetime, RecentLogs logs, DeviceSettings settings, TimeProvider time, ILogger<CommandDispatcher> logger)
    {
        _settings = settings;
        _logs = logs;
        _link = link;
        _updates = updates;
        _benchmarks = benchmarks;
        _reporter = reporter;
        _lifetime = lifetime;
        _time = time;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _link.CommandReceived += OnCommandAsync;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _link.CommandReceived -= OnCommandAsync;
        return Task.CompletedTask;
    }

    private async Task OnCommandAsync(string name, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        CommandMessage? command;
        try
        {
            command = JsonSerializer.Deserialize(payload.Span, ContractJsonContext.Default.CommandMessage);
        }
        catch (JsonException ex)
        {
            UpdateLog.CommandMalformed(_logger, name, ex.Message);
            return;
        }

        if (command is null || string.IsNullOrWhiteSpace(command.Id) || command.Id.Length > 128 || command.Id.Any(c => c is '/' or '+' or '#'))
        {
            UpdateLog.CommandMalformed(_logger, name, "no usable id (1 to 128 characters, no '/', '+' or '#')");
            return;
        }

        UpdateLog.CommandReceived(_logger, name, command.Id);
        var problem = command.Command != name ? $"the payload says '{command.Command}' but came on the '{name}' topic"
            : !CommandNames.All.Contains(name) ? $"'{name}' is not a command this agent knows ({string.Join(", ", CommandNames.All)})"
            : command.ExpiresAt is { } expires && expires <= _time.GetUtcNow() ? $"the command expired at {expires:O}"
            : null;
        if (problem is not null)
        {
            await RejectAsync(command, name == command.Command && CommandNames.All.Contains(name) ? "command_expired" : "unknown_command", problem, cancellationToken).ConfigureAwait(false);
            return;
        }

        switch (name)
        {
            case CommandNames.Deploy or CommandNames.Rollback or CommandNames.Reload or CommandNames.Trust:
                if (!_updates.Enqueue(command))
                {
                    await RejectAsync(command, "busy", "the agent's command queue is full", cancellationToken).ConfigureAwait(false);
                }

                break;
            case CommandNames.Benchmark:
                if (!_benchmarks.Enqueue(command))
                {
                    await RejectAsync(command, "busy", "the agent's benchmark queue is full", cancellationToken).ConfigureAwait(false);
                }

                break;
            case CommandNames.Restart:
                await _reporter.ReplyAsync(new ReplyMessage { CommandId = command.Id, Command = name, State = ReplyState.Succeeded, Message = "restarting", Final = true }, cancellationToken).ConfigureAwait(false);
                UpdateLog.Restarting(_logger, command.Id);
                _lifetime.StopApplication();
                break;
            case CommandNames.CollectLogs:
                await _reporter.ReplyAsync(
                    new ReplyMessage { CommandId = command.Id, Command = name, State = ReplyState.Succeeded, Lines = _logs.Last(MaxLogLines), Final = true }, cancellationToken).ConfigureAwait(false);
                break;
            case CommandNames.Configure:
                if ((command.Configuration is { } change ? DeviceSettings.Problem(change) : "a configure command needs 'configuration'") is { } invalid)
                {
                    await RejectAsync(command, "invalid_configuration", invalid, cancellationToken).ConfigureAwait(false);
                    break;
                }

                var applied = _settings.Apply(command.Configuration!);
                UpdateLog.Configured(_logger, command.Id, JsonSerializer.Serialize(applied, ContractJsonContext.Default.DesiredConfiguration));
                await _reporter.ReplyAsync(new ReplyMessage { CommandId = command.Id, Command = name, State = ReplyState.Succeeded, Configuration = applied, Final = true }, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await RejectAsync(command, "unsupported", $"'{name}' is not supported by this agent version yet", cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private Task RejectAsync(CommandMessage command, string reason, string message, CancellationToken cancellationToken)
    {
        UpdateLog.CommandRejected(_logger, command.Command, command.Id, reason, message);
        return _reporter.ReplyAsync(
            new ReplyMessage { CommandId = command.Id, Command = command.Command, State = ReplyState.Rejected, Reason = reason, Message = message, Model = command.Model, Final = true },
            cancellationToken);
    }
}
