using System.Globalization;
using System.Text.Json;

namespace Wafer.Chain;

/// <summary>Works out a checkpoint folder's training step when the caller does not give one.</summary>
internal static class CheckpointStep
{
    private const long MaxTrainerStateLength = 64 << 20;

    public static long Resolve(string checkpoint, long? explicitStep)
    {
        if (explicitStep is long step)
        {
            return step;
        }

        string state = Path.Combine(checkpoint, "trainer_state.json");
        if (File.Exists(state) && new FileInfo(state).Length <= MaxTrainerStateLength)
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(state));
                if (document.RootElement.ValueKind == JsonValueKind.Object &&
                    document.RootElement.TryGetProperty("global_step", out JsonElement global) &&
                    global.TryGetInt64(out long fromState))
                {
                    return fromState;
                }
            }
            catch (JsonException)
            {
                // Fall through to the folder name.
            }
        }

        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkpoint)));
        int start = name.Length;
        while (start > 0 && char.IsAsciiDigit(name[start - 1]))
        {
            start--;
        }

        if (start < name.Length && long.TryParse(name.AsSpan(start), NumberStyles.None, CultureInfo.InvariantCulture, out long fromName))
        {
            return fromName;
        }

        throw new ArgumentException($"{checkpoint}: cannot tell the training step (no trainer_state.json global_step, no digits ending the folder name); give --step.", nameof(checkpoint));
    }
}
