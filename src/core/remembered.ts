/**
 * A test of short names that remembers its answers, up to a bound: field and argument names
 * repeat from request to request, but come from requests, so the memory must not grow with them.
 */
export function rememberedTest(test: (name: string) => boolean, max = 4096): (name: string) => boolean {
  const answers = new Map<string, boolean>();
  return (name) => {
    let answer = answers.get(name);
    if (answer === undefined) {
      answer = test(name);
      if (name.length <= 64 && answers.size < max) answers.set(name, answer);
    }
    return answer;
  };
}
