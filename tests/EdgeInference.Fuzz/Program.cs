// One fuzz target per process, driven by afl++ through SharpFuzz: dotnet EdgeInference.Fuzz.dll TARGET
// (fuzz.sh instruments the assemblies, runs every target for a fixed time and keeps what it finds).
using EdgeInference.Testing.Fuzzing;
using SharpFuzz;

if (args is ["--write-corpus", var corpus])
{
    EdgeInference.Fuzz.SeedCorpus.Write(corpus);
    return 0;
}

if (args.Length != 1 || !FuzzTargets.Names.Contains(args[0]))
{
    await Console.Error.WriteLineAsync($"usage: EdgeInference.Fuzz TARGET (one of {string.Join(", ", FuzzTargets.Names)}) | --write-corpus DIR");
    return 2;
}

// Instrumented code must not run before the fuzzer has set up its coverage map: the targets load on the first input.
FuzzTargets? targets = null;
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    targets ??= new FuzzTargets();
    targets.Run(args[0], buffer.ToArray());
});
targets?.Dispose();
return 0;
