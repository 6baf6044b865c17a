using EdgeInference.Demo;

DemoOptions options;
try
{
    options = DemoOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"edge-demo: {ex.Message}");
    return 2;
}

using var stop = new CancellationTokenSource();
void OnCtrlC(object? sender, ConsoleCancelEventArgs e)
{
    e.Cancel = true; // stop cleanly: every process gets SIGTERM
    stop.Cancel();
}

void OnTerm(object? sender, EventArgs e) => stop.Cancel();
Console.CancelKeyPress += OnCtrlC;
AppDomain.CurrentDomain.ProcessExit += OnTerm;
try
{
    return await new DemoRunner(options).RunAsync(stop.Token);
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine($"edge-demo: {ex.Message}");
    return 1;
}
finally
{
    Console.CancelKeyPress -= OnCtrlC;
    AppDomain.CurrentDomain.ProcessExit -= OnTerm;
}
